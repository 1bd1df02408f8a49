// tarn-extension-proxy: a function container's localhost:2773, forwarded to its own stack.
//
// When function containers have a network namespace of their own (the bridge placement), the
// Parameters and Secrets extension that the pool worker serves is not on their loopback. This
// small static binary is mounted into such containers and runs first: it listens on
// 127.0.0.1:<port> inside the container, forwards every connection to the stack's extension,
// and runs the runtime's own entrypoint as its child, ending with the child's status.
//
// TARN_EXTENSION_PROXY="<port>=<host>:<port>" names both ends; it is removed from the
// runtime's environment.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

const variable = "TARN_EXTENSION_PROXY"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tarn-extension-proxy ENTRYPOINT [ARG...]")
		os.Exit(2)
	}
	listen, target, found := strings.Cut(os.Getenv(variable), "=")
	if found {
		if listener, err := net.Listen("tcp", "127.0.0.1:"+listen); err == nil {
			go serve(listener, target)
		} else {
			fmt.Fprintf(os.Stderr, "tarn: the Parameters and Secrets extension is not on port %s: %v\n", listen, err)
		}
	}
	os.Exit(run(os.Args[1], os.Args[2:]))
}

func serve(listener net.Listener, target string) {
	for {
		client, err := listener.Accept()
		if err != nil {
			return
		}
		go forward(client, target)
	}
}

func forward(client net.Conn, target string) {
	defer client.Close()
	upstream, err := net.Dial("tcp", target)
	if err != nil {
		return // the client sees the connection close: the extension is unreachable
	}
	defer upstream.Close()
	done := make(chan struct{}, 2)
	pipe := func(to, from net.Conn) {
		io.Copy(to, from)
		if tcp, ok := to.(*net.TCPConn); ok {
			tcp.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(upstream, client)
	go pipe(client, upstream)
	<-done
	<-done
}

// run starts the entrypoint with this process's environment less TARN_EXTENSION_PROXY,
// passes signals on, and answers its exit status (128 + the signal that ended it).
func run(program string, args []string) int {
	command := exec.Command(program, args...)
	command.Stdin, command.Stdout, command.Stderr = os.Stdin, os.Stdout, os.Stderr
	for _, entry := range os.Environ() {
		if !strings.HasPrefix(entry, variable+"=") {
			command.Env = append(command.Env, entry)
		}
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals)
	if err := command.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "tarn: cannot start %s: %v\n", program, err)
		return 127
	}
	go func() {
		for received := range signals {
			if received != syscall.SIGCHLD && received != syscall.SIGURG {
				command.Process.Signal(received)
			}
		}
	}()
	err := command.Wait()
	if exit, ok := err.(*exec.ExitError); ok {
		if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			return 128 + int(status.Signal())
		}
		return exit.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}

// A Go function as `bootstrap` for provided.al2023: the Runtime API loop over net/http,
// standard library only, keeping the contract of tests/pool/runtime_checks.py.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

var api = "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"

func post(path string, body interface{}, errorType string) {
	data, _ := json.Marshal(body)
	request, _ := http.NewRequest("POST", api+path, bytes.NewReader(data))
	if errorType != "" {
		request.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	}
	if response, err := http.DefaultClient.Do(request); err == nil {
		response.Body.Close()
	}
}

func environ() map[string]string {
	out := map[string]string{}
	for _, pair := range os.Environ() {
		parts := strings.SplitN(pair, "=", 2)
		out[parts[0]] = parts[1]
	}
	return out
}

func handle(event interface{}, headers http.Header) (interface{}, error) {
	fields, _ := event.(map[string]interface{})
	switch fields["action"] {
	case "context":
		deadline, _ := strconv.ParseInt(headers.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
		return map[string]interface{}{
			"function_name": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
			"request_id":    headers.Get("Lambda-Runtime-Aws-Request-Id"),
			"arn":           headers.Get("Lambda-Runtime-Invoked-Function-Arn"),
			"remaining_ms":  deadline - time.Now().UnixMilli(),
			"memory":        os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
			"language":      "go",
		}, nil
	case "environ":
		return environ(), nil
	case "raise":
		return nil, fmt.Errorf("bad input")
	case "sleep":
		time.Sleep(time.Duration(fields["seconds"].(float64)) * time.Second)
	}
	return event, nil
}

func main() {
	if os.Getenv("TARN_TEST_INIT_FAIL") != "" {
		post("/init/error", map[string]interface{}{"errorMessage": "init failed", "errorType": "InitError"}, "InitError")
		os.Exit(1)
	}
	for {
		response, err := http.Get(api + "/invocation/next")
		if err != nil {
			os.Exit(1)
		}
		payload, _ := io.ReadAll(response.Body)
		response.Body.Close()
		id := response.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var event interface{}
		json.Unmarshal(payload, &event)
		result, err := handle(event, response.Header)
		if err != nil {
			fmt.Println("error:", err)
			post("/invocation/"+id+"/error", map[string]interface{}{
				"errorMessage": err.Error(), "errorType": "errorString", "stackTrace": []string{"main.handle"},
			}, "errorString")
			continue
		}
		post("/invocation/"+id+"/response", result, "")
	}
}

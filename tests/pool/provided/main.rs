//! A Rust function as `bootstrap` for provided.al2023: the Runtime API loop over plain TCP,
//! standard library only, keeping the contract of tests/pool/runtime_checks.py.
use std::env;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn request(method: &str, path: &str, body: &str, extra: &str) -> (String, String) {
    let host = env::var("AWS_LAMBDA_RUNTIME_API").unwrap();
    let mut stream = TcpStream::connect(&host).expect("connect to the Runtime API");
    let head = format!(
        "{method} /2018-06-01/runtime{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).to_string();
    let (headers, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (headers.to_lowercase(), body.to_string())
}

fn header(headers: &str, name: &str) -> String {
    headers
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .unwrap_or("")
        .trim()
        .to_string()
}

fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out + "\""
}

fn number_after(body: &str, key: &str) -> u64 {
    let at = body.find(key).map(|i| i + key.len()).unwrap_or(body.len());
    body[at..].trim_start_matches([':', ' ']).chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().unwrap_or(0)
}

fn handle(body: &str, headers: &str) -> Result<String, String> {
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("\"action\":\"context\"") {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let deadline: u64 = header(headers, "lambda-runtime-deadline-ms").parse().unwrap_or(0);
        let field = |name: &str| quote(&env::var(name).unwrap_or_default());
        return Ok(format!(
            "{{\"function_name\":{},\"request_id\":{},\"arn\":{},\"remaining_ms\":{},\"memory\":{},\"language\":\"rust\"}}",
            field("AWS_LAMBDA_FUNCTION_NAME"),
            quote(&header(headers, "lambda-runtime-aws-request-id")),
            quote(&header(headers, "lambda-runtime-invoked-function-arn")),
            deadline.saturating_sub(now),
            field("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        ));
    }
    if compact.contains("\"action\":\"environ\"") {
        let pairs: Vec<String> = env::vars().map(|(k, v)| format!("{}:{}", quote(&k), quote(&v))).collect();
        return Ok(format!("{{{}}}", pairs.join(",")));
    }
    if compact.contains("\"action\":\"raise\"") {
        return Err("bad input".to_string());
    }
    if compact.contains("\"action\":\"sleep\"") {
        std::thread::sleep(Duration::from_secs(number_after(&compact, "\"seconds\"")));
    }
    Ok(body.to_string())
}

fn main() {
    if env::var("TARN_TEST_INIT_FAIL").is_ok() {
        let error = "{\"errorMessage\":\"init failed\",\"errorType\":\"InitError\"}";
        request("POST", "/init/error", error, "Lambda-Runtime-Function-Error-Type: InitError\r\n");
        std::process::exit(1);
    }
    loop {
        let (headers, body) = request("GET", "/invocation/next", "", "");
        let id = header(&headers, "lambda-runtime-aws-request-id");
        match handle(&body, &headers) {
            Ok(result) => {
                request("POST", &format!("/invocation/{id}/response"), &result, "");
            }
            Err(message) => {
                println!("error: {message}");
                let error = format!(
                    "{{\"errorMessage\":{},\"errorType\":\"&str\",\"stackTrace\":[\"main::handle\"]}}",
                    quote(&message)
                );
                let extra = "Lambda-Runtime-Function-Error-Type: &str\r\n";
                request("POST", &format!("/invocation/{id}/error"), &error, extra);
            }
        }
    }
}

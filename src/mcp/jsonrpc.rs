//! JSON-RPC 2.0 as MCP uses it: requests with numeric ids, notifications, and the messages a
//! server sends back (its response, or its own requests and notifications on an SSE stream).
//! Pure.

use serde_json::{Map, Value, json};

pub fn request(id: u64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

pub fn notification(method: &str) -> Value {
    json!({ "jsonrpc": "2.0", "method": method })
}

/// A response to a server's request: `result` for `ping`, "method not found" otherwise
/// (this client offers no sampling, roots or elicitation).
pub fn reply_to(id: &Value, method: &str) -> Value {
    if method == "ping" {
        json!({ "jsonrpc": "2.0", "id": id, "result": {} })
    } else {
        json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": { "code": -32601, "message": "Method not found" }
        })
    }
}

/// A JSON-RPC error object (JSON-RPC 2.0 section 5.1).
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

/// What one message from the server is.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Response {
        id: Value,
        outcome: Result<Value, RpcError>,
    },
    Request {
        id: Value,
        method: String,
    },
    Notification,
}

/// Reads one message; `Err` says what makes it no JSON-RPC 2.0 message.
pub fn classify(value: &Value) -> Result<Incoming, String> {
    let Some(object) = value.as_object() else {
        return Err(format!("a JSON {} instead of an object", kind(value)));
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err("no \"jsonrpc\": \"2.0\" member".to_owned());
    }
    if let Some(method) = object.get("method") {
        let method = method
            .as_str()
            .ok_or("\"method\" is not a string")?
            .to_owned();
        return Ok(match object.get("id") {
            Some(id) => Incoming::Request {
                id: id.clone(),
                method,
            },
            None => Incoming::Notification,
        });
    }
    let id = object.get("id").cloned().ok_or("no \"id\" member")?;
    let outcome = match (object.get("result"), object.get("error")) {
        (Some(result), None) => Ok(result.clone()),
        (None, Some(error)) => Err(rpc_error(error)?),
        (Some(_), Some(_)) => return Err("both \"result\" and \"error\"".to_owned()),
        (None, None) => return Err("neither \"result\" nor \"error\"".to_owned()),
    };
    Ok(Incoming::Response { id, outcome })
}

pub fn rpc_error(error: &Value) -> Result<RpcError, String> {
    let object: &Map<String, Value> = error.as_object().ok_or("\"error\" is not an object")?;
    let code = object
        .get("code")
        .and_then(Value::as_i64)
        .ok_or("\"error\" has no integer \"code\"")?;
    let message = object
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(RpcError {
        code,
        message,
        data: object.get("data").cloned(),
    })
}

/// Whether `id` (as the server echoed it) is the request's `expected` id.
pub fn same_id(id: &Value, expected: u64) -> bool {
    id.as_u64() == Some(expected)
}

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_requests_and_notifications() {
        let ok = classify(&json!({"jsonrpc": "2.0", "id": 3, "result": {"tools": []}})).unwrap();
        assert_eq!(
            ok,
            Incoming::Response {
                id: json!(3),
                outcome: Ok(json!({"tools": []}))
            }
        );
        let err = classify(&json!({"jsonrpc": "2.0", "id": 3, "error": {"code": -32602, "message": "Unknown tool", "data": 1}}))
            .unwrap();
        let Incoming::Response {
            outcome: Err(e), ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (e.code, e.message.as_str(), e.data),
            (-32602, "Unknown tool", Some(json!(1)))
        );
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "id": "a", "method": "ping"})).unwrap(),
            Incoming::Request {
                id: json!("a"),
                method: "ping".into()
            }
        );
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {}}))
                .unwrap(),
            Incoming::Notification
        );
    }

    #[test]
    fn what_is_not_json_rpc_is_named() {
        for (value, problem) in [
            (json!([1]), "array"),
            (json!({"id": 1, "result": {}}), "jsonrpc"),
            (json!({"jsonrpc": "2.0", "result": {}}), "\"id\""),
            (json!({"jsonrpc": "2.0", "id": 1}), "neither"),
            (
                json!({"jsonrpc": "2.0", "id": 1, "result": 1, "error": {}}),
                "both",
            ),
            (
                json!({"jsonrpc": "2.0", "id": 1, "error": {"message": "x"}}),
                "code",
            ),
            (json!({"jsonrpc": "2.0", "method": 5}), "method"),
        ] {
            let e = classify(&value).unwrap_err();
            assert!(e.contains(problem), "{value}: {e}");
        }
    }

    #[test]
    fn ids_and_replies() {
        assert!(same_id(&json!(2), 2));
        assert!(!same_id(&json!("2"), 2), "a string id is another id");
        assert_eq!(reply_to(&json!(7), "ping")["result"], json!({}));
        assert_eq!(
            reply_to(&json!(7), "sampling/createMessage")["error"]["code"],
            -32601
        );
    }
}

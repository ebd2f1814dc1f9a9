//! `--mcp-call`: a tool to call after `tools/list`, parsed from `NAME` or
//! `NAME:{"json":"arguments"}` (`*` for the first tool the server lists).

use std::str::FromStr;

use serde_json::{Map, Value};

use super::jsonrpc;

/// `--mcp-call '*'`: the first tool the server lists.
pub const FIRST_TOOL: &str = "*";

/// A tool to call after the handshake: `NAME` or `NAME:{"json":"arguments"}` (`*` for the
/// first tool the server lists).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub name: String,
    pub arguments: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolCallError {
    #[error("the tool call {spec:?} has no tool name: write NAME or NAME:{{\"arg\":\"value\"}}")]
    NoName { spec: String },
    #[error(
        "the arguments of the tool call {name:?} are not JSON ({detail}): write them as a JSON \
         object after the colon, e.g. {name}:{{\"text\":\"hi\"}}"
    )]
    NotJson { name: String, detail: String },
    #[error(
        "the arguments of the tool call {name:?} are a JSON {kind}, not an object: write them \
         as {name}:{{\"arg\":\"value\"}}"
    )]
    NotObject { name: String, kind: &'static str },
}

impl FromStr for ToolCall {
    type Err = ToolCallError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        // Tool names have no colon (2025-11-25: A-Z, a-z, 0-9, `_`, `-`, `.`).
        let (name, args) = match spec.split_once(':') {
            Some((name, args)) => (name.trim(), Some(args.trim())),
            None => (spec.trim(), None),
        };
        if name.is_empty() {
            return Err(ToolCallError::NoName {
                spec: spec.to_owned(),
            });
        }
        let arguments = match args.filter(|a| !a.is_empty()) {
            None => Map::new(),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                Ok(other) => {
                    return Err(ToolCallError::NotObject {
                        name: name.to_owned(),
                        kind: jsonrpc::kind(&other),
                    });
                }
                Err(e) => {
                    return Err(ToolCallError::NotJson {
                        name: name.to_owned(),
                        detail: e.to_string(),
                    });
                }
            },
        };
        Ok(Self {
            name: name.to_owned(),
            arguments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_calls_parse_from_name_and_json_arguments() {
        let call: ToolCall = "whoami".parse().unwrap();
        assert_eq!((call.name.as_str(), call.arguments.len()), ("whoami", 0));
        let call: ToolCall = r#"echo:{"text":"a:b"}"#.parse().unwrap();
        assert_eq!(call.name, "echo");
        assert_eq!(call.arguments["text"], "a:b", "only the first colon splits");
        assert_eq!("echo:".parse::<ToolCall>().unwrap().arguments.len(), 0);
        assert!(matches!(
            ":{}".parse::<ToolCall>(),
            Err(ToolCallError::NoName { .. })
        ));
        assert!(matches!(
            "echo:{text}".parse::<ToolCall>(),
            Err(ToolCallError::NotJson { .. })
        ));
        let e = "echo:[1]".parse::<ToolCall>().unwrap_err();
        assert!(e.to_string().contains("array"), "{e}");
    }
}

//! The tools of a server: `tools/list` (every page), and one `tools/call` recorded as the
//! check `mcp.tools_call`, with arguments given or made from the tool's input schema.

use serde_json::{Map, Value, json};

use super::progress::Progress;
use super::transport::Transport;
use super::{CallOutcome, McpError, Tool, ToolCall};
use crate::oauth::Check;
use crate::redact::untrusted;

/// `tools/list` pages followed at most.
const MAX_PAGES: usize = 20;

/// A value for each property `schema` requires: its `const`, `default` or first `enum`
/// value, else a plain one of its `type`.
pub(super) fn required_arguments(schema: Option<&Value>) -> Map<String, Value> {
    let mut arguments = Map::new();
    let Some(schema) = schema else {
        return arguments;
    };
    let properties = schema.get("properties");
    let required = schema.get("required").and_then(Value::as_array);
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        let property = properties.and_then(|p| p.get(name));
        let pick = |key: &str| property.and_then(|p| p.get(key)).cloned();
        let value = pick("const")
            .or_else(|| pick("default"))
            .or_else(|| {
                property
                    .and_then(|p| p.get("enum"))
                    .and_then(Value::as_array)
                    .and_then(|e| e.first().cloned())
            })
            .unwrap_or_else(|| {
                match property.and_then(|p| p.get("type")).and_then(Value::as_str) {
                    Some("number" | "integer") => json!(1),
                    Some("boolean") => json!(true),
                    Some("array") => json!([]),
                    Some("object") => json!({}),
                    Some("null") => Value::Null,
                    _ => json!("test"),
                }
            });
        arguments.insert(name.to_owned(), value);
    }
    arguments
}

pub(super) async fn list_tools(transport: &mut Transport<'_>) -> Result<Vec<Tool>, McpError> {
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let params = match &cursor {
            Some(c) => json!({ "cursor": c }),
            None => json!({}),
        };
        let result = transport.request("tools/list", params).await?.result;
        let Some(page) = result.get("tools").and_then(Value::as_array) else {
            return Err(transport.protocol("tools/list", "the result has no \"tools\" array"));
        };
        for tool in page {
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                return Err(transport.protocol("tools/list", "a tool without a string \"name\""));
            };
            tools.push(Tool {
                name: name.to_owned(),
                description: tool
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                input_schema: tool.get("inputSchema").filter(|s| s.is_object()).cloned(),
            });
        }
        cursor = result
            .get("nextCursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if cursor.is_none() {
            return Ok(tools);
        }
    }
    Err(transport.protocol(
        "tools/list",
        &format!("more than {MAX_PAGES} pages (nextCursor); stopped reading"),
    ))
}

pub(super) async fn call_tool(
    transport: &mut Transport<'_>,
    call: &ToolCall,
    tools: &[Tool],
    progress: &mut Progress,
) -> CallOutcome {
    let name = untrusted(&call.name).to_string();
    let listed = if tools.iter().any(|t| t.name == call.name) {
        ""
    } else {
        " (it is not in tools/list)"
    };
    let result = transport
        .request(
            "tools/call",
            json!({ "name": call.name, "arguments": call.arguments }),
        )
        .await
        .map(|a| a.result);
    let outcome = CallOutcome {
        tool: call.name.clone(),
        result,
    };
    progress.push(match &outcome.result {
        // 2026-07-28: a result that is not `complete` asks the client for input (SEP-2322),
        // which this client, declaring no capabilities, cannot give.
        Ok(result)
            if result
                .get("resultType")
                .and_then(Value::as_str)
                .is_some_and(|t| t != "complete") =>
        {
            Check::fail(
                "mcp.tools_call",
                format!(
                    "{name}{listed} answered with resultType {}: it asks the client for input, \
                     which this client does not provide",
                    untrusted(result["resultType"].as_str().unwrap_or_default())
                ),
            )
        }
        Ok(_) if outcome.tool_error() => Check::fail(
            "mcp.tools_call",
            format!(
                "{name}{listed} answered with isError: true: {}",
                first_text(outcome.result.as_ref().ok()).unwrap_or_default()
            ),
        ),
        Ok(result) => Check::pass(
            "mcp.tools_call",
            format!(
                "{name} answered with {} content item(s){}",
                result
                    .get("content")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len),
                first_text(Some(result))
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default()
            ),
        ),
        Err(e) => Check::fail("mcp.tools_call", format!("{name}{listed}: {e}")),
    });
    outcome
}

/// The first text content item, escaped and shortened, for a check's detail.
fn first_text(result: Option<&Value>) -> Option<String> {
    let text = result?
        .get("content")?
        .as_array()?
        .iter()
        .find_map(|c| c.get("text").and_then(Value::as_str))?;
    let short: String = text.chars().take(120).collect();
    let more = if short.len() < text.len() { "…" } else { "" };
    Some(format!("{}{more}", untrusted(short)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_tool_gets_a_value_for_each_required_argument() {
        let args = required_arguments(Some(&json!({
            "type": "object",
            "properties": {
                "a": {"type": "number"},
                "b": {"type": "integer"},
                "unit": {"type": "string", "enum": ["m", "km"]},
                "note": {"type": "string"},
                "loud": {"type": "boolean", "default": false},
                "optional": {"type": "string"}
            },
            "required": ["a", "b", "unit", "note", "loud"]
        })));
        assert_eq!(
            Value::Object(args),
            json!({"a": 1, "b": 1, "unit": "m", "note": "test", "loud": false})
        );
        assert!(required_arguments(None).is_empty());
    }
}

//! The `search_web(query)` function tool on OpenAI chat completions: its
//! definition in the request, and the call read back from a JSON answer
//! (`message.tool_calls`) or from streamed deltas (`delta.tool_calls`, whose
//! `arguments` arrive in fragments and are joined by `index`).
//!
//! Only a call of `search_web` with a non-empty `query` counts; a call of
//! any other function, or arguments that are not JSON, count as no call.

use serde::Deserialize;
use serde_json::{Value, json};

/// The one tool's name.
pub const SEARCH_WEB: &str = "search_web";

/// The `tools` array offering `search_web`.
pub fn tools() -> Value {
    json!([{
        "type": "function",
        "function": {
            "name": SEARCH_WEB,
            "description": "Search the web for current or live information (news, prices, \
                releases, schedules, reviews, recent events). Call it only when answering \
                well needs facts newer than your training data; otherwise answer directly.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {
                        "type": "string",
                        "description": "The web search to run, as a standalone question."
                    }
                },
                "required": ["query"],
                "additionalProperties": false
            }
        }
    }])
}

/// One entry of `message.tool_calls` or `delta.tool_calls`.
#[derive(Debug, Default, Deserialize)]
pub struct ToolCall {
    #[serde(default)]
    pub index: Option<usize>,
    #[serde(default)]
    pub function: Option<FunctionCall>,
}

#[derive(Debug, Default, Deserialize)]
pub struct FunctionCall {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

/// The query of the first `search_web` call in a complete answer.
pub fn query_of(calls: &[ToolCall]) -> Option<String> {
    calls.iter().find_map(|call| {
        let function = call.function.as_ref()?;
        let name = function.name.as_deref()?;
        query(name, function.arguments.as_deref().unwrap_or_default())
    })
}

fn query(name: &str, arguments: &str) -> Option<String> {
    if name != SEARCH_WEB {
        return None;
    }
    let arguments: Value = serde_json::from_str(arguments).ok()?;
    let query = arguments["query"].as_str()?.trim();
    (!query.is_empty()).then(|| query.to_string())
}

/// Tool calls assembled from streamed fragments.
#[derive(Debug, Default)]
pub struct StreamedCalls {
    /// (index, name, arguments so far), in order of first appearance.
    calls: Vec<(usize, String, String)>,
}

impl StreamedCalls {
    pub fn add(&mut self, fragments: Vec<ToolCall>) {
        for (position, fragment) in fragments.into_iter().enumerate() {
            let index = fragment.index.unwrap_or(position);
            let function = fragment.function.unwrap_or_default();
            let at = match self.calls.iter().position(|(i, ..)| *i == index) {
                Some(at) => at,
                None => {
                    self.calls.push((index, String::new(), String::new()));
                    self.calls.len() - 1
                }
            };
            let (_, name, arguments) = &mut self.calls[at];
            name.push_str(function.name.as_deref().unwrap_or_default());
            arguments.push_str(function.arguments.as_deref().unwrap_or_default());
        }
    }

    /// The query of the first complete `search_web` call.
    pub fn query(&self) -> Option<String> {
        self.calls
            .iter()
            .find_map(|(_, name, arguments)| query(name, arguments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(value: Value) -> Vec<ToolCall> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_search_web_call_yields_its_query_and_other_functions_do_not() {
        let found = calls(json!([
            {"id": "a", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
            {"id": "b", "type": "function",
             "function": {"name": "search_web", "arguments": "{\"query\": \" f1 calendar \"}"}}
        ]));
        assert_eq!(query_of(&found).as_deref(), Some("f1 calendar"));
        let bad = calls(json!([{"function": {"name": "search_web", "arguments": "{not json"}}]));
        assert_eq!(query_of(&bad), None);
        let empty =
            calls(json!([{"function": {"name": "search_web", "arguments": "{\"query\":\"\"}"}}]));
        assert_eq!(query_of(&empty), None);
    }

    #[test]
    fn streamed_fragments_are_joined_by_index() {
        let mut streamed = StreamedCalls::default();
        streamed.add(calls(
            json!([{"index": 0, "function": {"name": "search_web", "arguments": ""}}]),
        ));
        streamed.add(calls(
            json!([{"index": 0, "function": {"arguments": "{\"que"}}]),
        ));
        assert_eq!(streamed.query(), None, "not complete yet");
        streamed.add(calls(
            json!([{"index": 0, "function": {"arguments": "ry\":\"next apple event\"}"}}]),
        ));
        assert_eq!(streamed.query().as_deref(), Some("next apple event"));
    }

    #[test]
    fn the_tool_definition_names_search_web_with_a_required_query() {
        let tools = tools();
        assert_eq!(tools[0]["function"]["name"], SEARCH_WEB);
        assert_eq!(
            tools[0]["function"]["parameters"]["required"],
            json!(["query"])
        );
    }
}

//! The causal LM's tokenizer and chat template.
//!
//! A HF folder brings its `tokenizer.json` and `tokenizer_config.json` (`chat_template`); a GGUF
//! file brings its vocabulary, merges and template as metadata, from which an equivalent HF
//! tokenizer (byte-level BPE, digits split one by one for the `smollm` pre-tokenizer) is built
//! in memory.

use crate::error::ModelError;
use crate::gguf::{GgufFile, MetaValue};
use crate::weights::WeightSource;
use serde_json::json;
use std::path::Path;
use std::str::FromStr;
use tokenizers::Tokenizer;

/// How (prompt, completion) turns are laid out, detected from the model's chat template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatTemplate {
    /// `<|im_start|>role\ncontent<|im_end|>\n` (SmolLM2, Qwen2.5), with the template's
    /// default system prompt when it has one.
    ChatMl {
        /// Inserted as the first turn when the template adds one by default.
        default_system: Option<String>,
    },
    /// `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>` (Llama 3.x), with the
    /// template's default system header (knowledge cut-off and date lines).
    Llama3,
}

const SMOLLM_SYSTEM: &str = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";
const QWEN_SYSTEM: &str = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

impl ChatTemplate {
    /// Recognises a Jinja chat template by its markers and default system prompt.
    pub fn detect(template: &str) -> Result<Self, ModelError> {
        if template.contains("<|start_header_id|>") {
            return Ok(ChatTemplate::Llama3);
        }
        if template.contains("<|im_start|>") {
            let default_system = [SMOLLM_SYSTEM, QWEN_SYSTEM]
                .into_iter()
                .find(|s| template.contains(s))
                .map(String::from);
            return Ok(ChatTemplate::ChatMl { default_system });
        }
        Err(ModelError::Invalid(
            "the model's chat template is neither ChatML nor Llama 3; prism cannot render it"
                .into(),
        ))
    }

    /// The text before the assistant's reply: system turn (if any), the user turn, and the
    /// assistant header.
    pub fn prompt(&self, user: &str) -> String {
        self.conversation(&[("user", user)])
    }

    /// The text before the next assistant reply in a conversation of `(role, content)` turns,
    /// oldest first (few-shot examples as earlier user/assistant turns): the template's default
    /// system turn unless the conversation opens with its own, every turn, and the assistant
    /// header. Renders `[("user", x)]` exactly as [`Self::prompt`] does.
    pub fn conversation(&self, turns: &[(&str, &str)]) -> String {
        let own_system = turns.first().is_some_and(|(role, _)| *role == "system");
        let mut s = String::new();
        match self {
            ChatTemplate::ChatMl { default_system } => {
                if let (Some(sys), false) = (default_system, own_system) {
                    s.push_str(&format!("<|im_start|>system\n{sys}<|im_end|>\n"));
                }
                for (role, content) in turns {
                    s.push_str(&format!("<|im_start|>{role}\n{content}<|im_end|>\n"));
                }
                s.push_str("<|im_start|>assistant\n");
            }
            ChatTemplate::Llama3 => {
                s.push_str("<|begin_of_text|>");
                if !own_system {
                    s.push_str(
                        "<|start_header_id|>system<|end_header_id|>\n\n\
                         Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n\
                         <|eot_id|>",
                    );
                }
                for (role, content) in turns {
                    s.push_str(&format!(
                        "<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>"
                    ));
                }
                s.push_str("<|start_header_id|>assistant<|end_header_id|>\n\n");
            }
        }
        s
    }

    /// The token that ends an assistant turn.
    pub fn end_of_turn(&self) -> &'static str {
        match self {
            ChatTemplate::ChatMl { .. } => "<|im_end|>",
            ChatTemplate::Llama3 => "<|eot_id|>",
        }
    }
}

/// Tokenizer, chat template and stop tokens of a causal LM.
pub struct LmTokenizer {
    /// The HF tokenizer.
    pub tokenizer: Tokenizer,
    /// How turns are laid out.
    pub template: ChatTemplate,
    /// Ids that end generation (end of turn, end of text).
    pub stop_ids: Vec<u32>,
}

/// A (prompt, completion) pair laid out by the chat template and tokenised: the ids and, for
/// each id, whether it belongs to the completion (and so carries the loss).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTokens {
    /// All ids: prompt part, then completion part.
    pub ids: Vec<u32>,
    /// Ids before this index are the prompt part.
    pub completion_start: usize,
}

impl LmTokenizer {
    /// Builds the tokenizer of a GGUF file from its `tokenizer.ggml.*` metadata.
    pub fn from_gguf(file: &GgufFile) -> Result<Self, ModelError> {
        let path = file.path().to_path_buf();
        let strings = |key: &str| -> Result<Vec<String>, ModelError> {
            file.require(key)?
                .as_array()
                .ok_or_else(|| ModelError::file(&path, format!("`{key}` is not an array")))?
                .iter()
                .map(|v| {
                    v.as_str().map(String::from).ok_or_else(|| {
                        ModelError::file(&path, format!("`{key}` holds a non-string"))
                    })
                })
                .collect()
        };
        let model = file
            .require("tokenizer.ggml.model")?
            .as_str()
            .unwrap_or_default();
        if model != "gpt2" {
            return Err(ModelError::file(
                &path,
                format!("tokenizer model `{model}` is not supported (only byte-level BPE, `gpt2`)"),
            ));
        }
        let pre = file
            .meta("tokenizer.ggml.pre")
            .and_then(MetaValue::as_str)
            .unwrap_or("default");
        let tokens = strings("tokenizer.ggml.tokens")?;
        let merges = strings("tokenizer.ggml.merges")?;
        let types: Vec<i64> = file
            .meta("tokenizer.ggml.token_type")
            .and_then(MetaValue::as_array)
            .map(|a| a.iter().map(|v| v.as_int().unwrap_or(1)).collect())
            .unwrap_or_default();
        let vocab: serde_json::Map<String, serde_json::Value> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), json!(i)))
            .collect();
        // Control tokens (type 3) are special: matched whole, never split.
        let added: Vec<serde_json::Value> = tokens
            .iter()
            .enumerate()
            .filter(|(i, _)| types.get(*i) == Some(&3))
            .map(|(i, t)| {
                json!({"id": i, "content": t, "single_word": false, "lstrip": false,
                       "rstrip": false, "normalized": false, "special": true})
            })
            .collect();
        let byte_level = json!({"type": "ByteLevel", "add_prefix_space": false,
                                "trim_offsets": true, "use_regex": true});
        let pre_tokenizer = match pre {
            "smollm" => json!({"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": true}, byte_level]}),
            "gpt2" | "default" => byte_level,
            other => {
                return Err(ModelError::file(
                    &path,
                    format!("pre-tokenizer `{other}` is not supported (smollm, gpt2)"),
                ));
            }
        };
        let spec = json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": added,
            "normalizer": null,
            "pre_tokenizer": pre_tokenizer,
            "post_processor": null,
            "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true,
                        "use_regex": true},
            "model": {"type": "BPE", "dropout": null, "unk_token": null,
                      "continuing_subword_prefix": null, "end_of_word_suffix": null,
                      "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocab, "merges": merges},
        });
        let tokenizer = Tokenizer::from_str(&spec.to_string())
            .map_err(|e| ModelError::file(&path, format!("building the tokenizer: {e}")))?;
        let template = ChatTemplate::detect(
            file.require("tokenizer.chat_template")?
                .as_str()
                .unwrap_or_default(),
        )?;
        Self::finish(tokenizer, template, &path)
    }

    /// Loads `tokenizer.json` and the chat template of `tokenizer_config.json` from `dir`.
    pub fn from_hf_dir(dir: &Path) -> Result<Self, ModelError> {
        let tok_path = dir.join("tokenizer.json");
        let tokenizer =
            Tokenizer::from_file(&tok_path).map_err(|e| ModelError::file(&tok_path, e))?;
        let cfg_path = dir.join("tokenizer_config.json");
        let cfg_text =
            fs_err::read_to_string(&cfg_path).map_err(|e| ModelError::file(&cfg_path, e))?;
        let cfg: serde_json::Value =
            serde_json::from_str(&cfg_text).map_err(|e| ModelError::file(&cfg_path, e))?;
        let template_text = cfg["chat_template"]
            .as_str()
            .ok_or_else(|| ModelError::file(&cfg_path, "no `chat_template` string"))?;
        let template = ChatTemplate::detect(template_text)?;
        Self::finish(tokenizer, template, dir)
    }

    fn finish(
        tokenizer: Tokenizer,
        template: ChatTemplate,
        path: &Path,
    ) -> Result<Self, ModelError> {
        let mut stop_ids = Vec::new();
        for t in [
            template.end_of_turn(),
            "<|endoftext|>",
            "<|end_of_text|>",
            "<|eot_id|>",
        ] {
            if let Some(id) = tokenizer.token_to_id(t)
                && !stop_ids.contains(&id)
            {
                stop_ids.push(id);
            }
        }
        if tokenizer.token_to_id(template.end_of_turn()).is_none() {
            return Err(ModelError::file(
                path,
                format!(
                    "the vocabulary lacks the end-of-turn token `{}`",
                    template.end_of_turn()
                ),
            ));
        }
        Ok(Self {
            tokenizer,
            template,
            stop_ids,
        })
    }

    /// Token ids of `text` (special tokens in it are recognised; none are added).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        self.tokenizer
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| ModelError::Tokenize {
                index: 0,
                message: e.to_string(),
            })
    }

    /// Text of `ids`, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String, ModelError> {
        self.tokenizer
            .decode(ids, true)
            .map_err(|e| ModelError::Tokenize {
                index: 0,
                message: e.to_string(),
            })
    }

    /// Lays out `prompt` as the user turn and `completion` as the assistant's reply, followed
    /// by the end-of-turn token (which, as part of the completion, carries loss).
    pub fn chat(&self, prompt: &str, completion: &str) -> Result<ChatTokens, ModelError> {
        let mut ids = self.encode(&self.template.prompt(prompt))?;
        let completion_start = ids.len();
        ids.extend(self.encode(&format!("{completion}{}", self.template.end_of_turn()))?);
        Ok(ChatTokens {
            ids,
            completion_start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_renders_every_turn_and_one_user_turn_is_the_prompt() {
        let chatml = ChatTemplate::ChatMl {
            default_system: Some("SYS".into()),
        };
        assert_eq!(
            chatml.prompt("hi"),
            "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        );
        assert_eq!(
            chatml.conversation(&[("user", "a"), ("assistant", "b"), ("user", "c")]),
            "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\na<|im_end|>\n\
             <|im_start|>assistant\nb<|im_end|>\n<|im_start|>user\nc<|im_end|>\n\
             <|im_start|>assistant\n"
        );
        assert_eq!(
            chatml.conversation(&[("system", "own"), ("user", "x")]),
            "<|im_start|>system\nown<|im_end|>\n<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n",
            "a conversation's own system turn replaces the default"
        );
        let llama = ChatTemplate::Llama3;
        let two = llama.conversation(&[("user", "a"), ("assistant", "b"), ("user", "c")]);
        assert!(two.starts_with("<|begin_of_text|><|start_header_id|>system"));
        assert!(two.ends_with(
            "<|start_header_id|>user<|end_header_id|>\n\nc<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        ));
        assert_eq!(llama.prompt("q"), llama.conversation(&[("user", "q")]));
    }
}

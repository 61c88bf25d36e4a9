//! GGUF (v2/v3) reading: metadata, tensor directory, and dequantisation to f32 of the types
//! small checkpoints use (F32, F16, BF16, Q4_0, Q4_1, Q8_0).
//!
//! [`GgufFile`] is a [`WeightSource`] that answers to Hugging Face Llama tensor names
//! (`model.layers.0.self_attn.q_proj.weight`, ...), so the causal LM has one loader for GGUF
//! and safetensors. GGUF stores the query and key projections permuted for interleaved-pair
//! RoPE (llama.cpp's converter); they are permuted back to the HF (rotate-half) layout here.

use crate::error::ModelError;
use crate::weights::{HostTensor, WeightSource};
use half::f16;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    /// Any unsigned or signed integer, widened.
    Int(i64),
    /// f32 or f64.
    Float(f64),
    /// bool.
    Bool(bool),
    /// UTF-8 string.
    Str(String),
    /// An array of values.
    Array(Vec<MetaValue>),
}

impl MetaValue {
    /// The integer value, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            MetaValue::Int(v) => Some(*v),
            _ => None,
        }
    }
    /// The number, if this is an integer or a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            MetaValue::Int(v) => Some(*v as f64),
            MetaValue::Float(v) => Some(*v),
            _ => None,
        }
    }
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&[MetaValue]> {
        match self {
            MetaValue::Array(v) => Some(v),
            _ => None,
        }
    }
}

/// ggml tensor types prism can dequantise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    /// 32-bit float.
    F32,
    /// 16-bit float.
    F16,
    /// bfloat16.
    Bf16,
    /// Blocks of 32: f16 scale, 16 bytes of 4-bit values offset by 8.
    Q4_0,
    /// Blocks of 32: f16 scale, f16 minimum, 16 bytes of 4-bit values.
    Q4_1,
    /// Blocks of 32: f16 scale, 32 signed bytes.
    Q8_0,
}

impl GgmlType {
    fn from_id(id: u32) -> Option<Self> {
        Some(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            30 => GgmlType::Bf16,
            _ => return None,
        })
    }

    /// Bytes taken by `n` elements.
    fn bytes_for(self, n: usize) -> usize {
        match self {
            GgmlType::F32 => 4 * n,
            GgmlType::F16 | GgmlType::Bf16 => 2 * n,
            GgmlType::Q4_0 => n / 32 * 18,
            GgmlType::Q4_1 => n / 32 * 20,
            GgmlType::Q8_0 => n / 32 * 34,
        }
    }
}

/// One entry of the tensor directory.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    /// ggml dimensions, fastest-varying first (`[in, out]` for a linear weight).
    pub dims: Vec<usize>,
    /// Storage type.
    pub ty: GgmlType,
    /// Byte offset from the start of the data section.
    pub offset: usize,
}

/// A GGUF file in memory.
pub struct GgufFile {
    path: PathBuf,
    bytes: Vec<u8>,
    data_start: usize,
    /// Metadata key → value.
    pub metadata: HashMap<String, MetaValue>,
    /// Tensor name (GGUF naming) → directory entry.
    pub tensors: HashMap<String, TensorInfo>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ModelError> {
        if self.pos + n > self.bytes.len() {
            return Err(ModelError::file(
                self.path,
                format!("truncated GGUF header at byte {}", self.pos),
            ));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, ModelError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn string(&mut self) -> Result<String, ModelError> {
        let n = self.u64()? as usize;
        let path = self.path;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| ModelError::file(path, "GGUF string is not UTF-8"))
    }
    fn value(&mut self, ty: u32) -> Result<MetaValue, ModelError> {
        Ok(match ty {
            0 => MetaValue::Int(self.take(1)?[0] as i64),
            1 => MetaValue::Int(self.take(1)?[0] as i8 as i64),
            2 => MetaValue::Int(u16::from_le_bytes(self.take(2)?.try_into().unwrap()) as i64),
            3 => MetaValue::Int(i16::from_le_bytes(self.take(2)?.try_into().unwrap()) as i64),
            4 => MetaValue::Int(self.u32()? as i64),
            5 => MetaValue::Int(self.u32()? as i32 as i64),
            6 => MetaValue::Float(f32::from_le_bytes(self.take(4)?.try_into().unwrap()) as f64),
            7 => MetaValue::Bool(self.take(1)?[0] != 0),
            8 => MetaValue::Str(self.string()?),
            9 => {
                let inner = self.u32()?;
                let n = self.u64()? as usize;
                let mut items = Vec::with_capacity(n.min(1 << 20));
                for _ in 0..n {
                    items.push(self.value(inner)?);
                }
                MetaValue::Array(items)
            }
            10 => MetaValue::Int(self.u64()? as i64),
            11 => MetaValue::Int(self.u64()? as i64),
            12 => MetaValue::Float(f64::from_le_bytes(self.take(8)?.try_into().unwrap())),
            other => {
                return Err(ModelError::file(
                    self.path,
                    format!("unknown GGUF metadata type {other}"),
                ));
            }
        })
    }
}

impl GgufFile {
    /// Reads and indexes `path`.
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        let bytes = fs_err::read(path).map_err(|e| ModelError::file(path, e))?;
        let mut r = Reader {
            bytes: &bytes,
            pos: 0,
            path,
        };
        if r.take(4)? != b"GGUF" {
            return Err(ModelError::file(path, "not a GGUF file (bad magic)"));
        }
        let version = r.u32()?;
        if !(2..=3).contains(&version) {
            return Err(ModelError::file(
                path,
                format!("GGUF version {version} is not supported (2 or 3)"),
            ));
        }
        let n_tensors = r.u64()? as usize;
        let n_kv = r.u64()? as usize;
        let mut metadata = HashMap::new();
        for _ in 0..n_kv {
            let key = r.string()?;
            let ty = r.u32()?;
            let value = r.value(ty)?;
            metadata.insert(key, value);
        }
        let mut tensors = HashMap::new();
        for _ in 0..n_tensors {
            let name = r.string()?;
            let n_dims = r.u32()? as usize;
            let dims = (0..n_dims)
                .map(|_| r.u64().map(|d| d as usize))
                .collect::<Result<Vec<_>, _>>()?;
            let ty_id = r.u32()?;
            let ty = GgmlType::from_id(ty_id).ok_or_else(|| {
                ModelError::file(
                    path,
                    format!("tensor `{name}` has ggml type {ty_id}, which prism cannot dequantise"),
                )
            })?;
            let offset = r.u64()? as usize;
            tensors.insert(name, TensorInfo { dims, ty, offset });
        }
        let alignment = metadata
            .get("general.alignment")
            .and_then(MetaValue::as_int)
            .unwrap_or(32) as usize;
        let data_start = r.pos.div_ceil(alignment) * alignment;
        let file = Self {
            path: path.into(),
            bytes,
            data_start,
            metadata,
            tensors,
        };
        for (name, info) in &file.tensors {
            let n: usize = info.dims.iter().product();
            let end = file.data_start + info.offset + info.ty.bytes_for(n);
            if end > file.bytes.len() {
                return Err(ModelError::file(
                    path,
                    format!("tensor `{name}` runs past the end of the file"),
                ));
            }
        }
        Ok(file)
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Option<&MetaValue> {
        self.metadata.get(key)
    }

    /// A required metadata value, or an error naming the key.
    pub fn require(&self, key: &str) -> Result<&MetaValue, ModelError> {
        self.meta(key)
            .ok_or_else(|| ModelError::file(&self.path, format!("metadata key `{key}` missing")))
    }

    /// The tensor with GGUF name `name`, dequantised, in row-major order with the PyTorch shape
    /// (ggml dimensions reversed).
    pub fn dequantize(&self, name: &str) -> Result<HostTensor, ModelError> {
        let info = self
            .tensors
            .get(name)
            .ok_or_else(|| ModelError::MissingTensor {
                path: self.path.clone(),
                name: name.into(),
            })?;
        let n: usize = info.dims.iter().product();
        let start = self.data_start + info.offset;
        let raw = &self.bytes[start..start + info.ty.bytes_for(n)];
        Ok(HostTensor {
            shape: info.dims.iter().rev().copied().collect(),
            data: dequantize(info.ty, raw, n),
        })
    }

    /// The GGUF name of a Hugging Face Llama tensor name, and whether it is a query (`Some(heads)`)
    /// or key projection to un-permute.
    fn gguf_name(&self, hf: &str) -> Option<(String, Option<usize>)> {
        let heads = |key: &str| {
            self.meta(key)
                .and_then(MetaValue::as_int)
                .map(|h| h as usize)
        };
        let arch = self
            .meta("general.architecture")
            .and_then(MetaValue::as_str)?;
        match hf {
            "model.embed_tokens.weight" => return Some(("token_embd.weight".into(), None)),
            "model.norm.weight" => return Some(("output_norm.weight".into(), None)),
            "lm_head.weight" => return Some(("output.weight".into(), None)),
            _ => {}
        }
        let rest = hf.strip_prefix("model.layers.")?;
        let (layer, rest) = rest.split_once('.')?;
        let (name, permute) = match rest {
            "input_layernorm.weight" => ("attn_norm.weight", None),
            "post_attention_layernorm.weight" => ("ffn_norm.weight", None),
            "self_attn.q_proj.weight" => (
                "attn_q.weight",
                heads(&format!("{arch}.attention.head_count")),
            ),
            "self_attn.k_proj.weight" => (
                "attn_k.weight",
                heads(&format!("{arch}.attention.head_count_kv"))
                    .or_else(|| heads(&format!("{arch}.attention.head_count"))),
            ),
            "self_attn.q_proj.bias" => ("attn_q.bias", None),
            "self_attn.k_proj.bias" => ("attn_k.bias", None),
            "self_attn.v_proj.bias" => ("attn_v.bias", None),
            "self_attn.v_proj.weight" => ("attn_v.weight", None),
            "self_attn.o_proj.weight" => ("attn_output.weight", None),
            "mlp.gate_proj.weight" => ("ffn_gate.weight", None),
            "mlp.up_proj.weight" => ("ffn_up.weight", None),
            "mlp.down_proj.weight" => ("ffn_down.weight", None),
            _ => return None,
        };
        // Only llama-architecture GGUFs carry the RoPE permutation (qwen2 uses NeoX RoPE).
        let permute = if arch == "llama" { permute } else { None };
        Some((format!("blk.{layer}.{name}"), permute))
    }
}

/// Undoes llama.cpp's `permute` of a `[heads·dh, in]` projection: GGUF rows are ordered
/// (head, pair, half) for interleaved RoPE; HF's rotate-half layout orders them (head, half, pair).
pub fn unpermute_rope_rows(t: &HostTensor, heads: usize) -> HostTensor {
    let (rows, cols) = (t.shape[0], t.shape[1]);
    let dh = rows / heads;
    let half = dh / 2;
    let mut data = vec![0f32; t.data.len()];
    for h in 0..heads {
        for i in 0..half {
            for j in 0..2 {
                let src = h * dh + i * 2 + j;
                let dst = h * dh + j * half + i;
                data[dst * cols..(dst + 1) * cols]
                    .copy_from_slice(&t.data[src * cols..(src + 1) * cols]);
            }
        }
    }
    HostTensor {
        shape: t.shape.clone(),
        data,
    }
}

impl WeightSource for GgufFile {
    fn path(&self) -> &Path {
        &self.path
    }

    fn contains(&self, name: &str) -> bool {
        self.gguf_name(name)
            .is_some_and(|(g, _)| self.tensors.contains_key(&g))
    }

    fn tensor(&self, name: &str) -> Result<HostTensor, ModelError> {
        let (gguf, permute) = self
            .gguf_name(name)
            .ok_or_else(|| ModelError::MissingTensor {
                path: self.path.clone(),
                name: name.into(),
            })?;
        let t = self.dequantize(&gguf)?;
        Ok(match permute {
            Some(heads) => unpermute_rope_rows(&t, heads),
            None => t,
        })
    }
}

fn f16_at(raw: &[u8], i: usize) -> f32 {
    f16::from_le_bytes([raw[i], raw[i + 1]]).to_f32()
}

/// Dequantises `n` elements of type `ty` from `raw`.
pub fn dequantize(ty: GgmlType, raw: &[u8], n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n);
    match ty {
        GgmlType::F32 => out.extend(
            raw.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
        GgmlType::F16 => out.extend(raw.chunks_exact(2).map(|b| f16_at(b, 0))),
        GgmlType::Bf16 => out.extend(
            raw.chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()),
        ),
        GgmlType::Q4_0 => {
            for block in raw.chunks_exact(18) {
                let d = f16_at(block, 0);
                let qs = &block[2..18];
                out.extend(qs.iter().map(|q| ((q & 0x0F) as i32 - 8) as f32 * d));
                out.extend(qs.iter().map(|q| ((q >> 4) as i32 - 8) as f32 * d));
            }
        }
        GgmlType::Q4_1 => {
            for block in raw.chunks_exact(20) {
                let d = f16_at(block, 0);
                let m = f16_at(block, 2);
                let qs = &block[4..20];
                out.extend(qs.iter().map(|q| (q & 0x0F) as f32 * d + m));
                out.extend(qs.iter().map(|q| (q >> 4) as f32 * d + m));
            }
        }
        GgmlType::Q8_0 => {
            for block in raw.chunks_exact(34) {
                let d = f16_at(block, 0);
                out.extend(block[2..34].iter().map(|&q| q as i8 as f32 * d));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_1_block_dequantises_low_nibbles_then_high() {
        let mut block = Vec::new();
        block.extend(f16::from_f32(0.5).to_le_bytes());
        block.extend(f16::from_f32(-1.0).to_le_bytes());
        block.extend((0..16u8).map(|i| i | ((15 - i) << 4)));
        let x = dequantize(GgmlType::Q4_1, &block, 32);
        assert_eq!(x[0], -1.0);
        assert_eq!(x[15], 15.0 * 0.5 - 1.0);
        assert_eq!(x[16], 15.0 * 0.5 - 1.0);
        assert_eq!(x[31], -1.0);
    }

    #[test]
    fn q8_0_block_scales_signed_bytes() {
        let mut block = Vec::new();
        block.extend(f16::from_f32(0.25).to_le_bytes());
        block.extend((0..32i8).map(|i| (i - 16) as u8));
        let x = dequantize(GgmlType::Q8_0, &block, 32);
        assert_eq!(x[0], -4.0);
        assert_eq!(x[31], 15.0 * 0.25);
    }

    #[test]
    fn unpermute_inverts_llama_cpp_permute() {
        // llama.cpp: w.reshape(heads, 2, dh/2, cols).swapaxes(1, 2).reshape(rows, cols)
        let (heads, dh, cols) = (2, 4, 3);
        let rows = heads * dh;
        let hf: Vec<f32> = (0..rows * cols).map(|x| x as f32).collect();
        let mut permuted = vec![0f32; hf.len()];
        for h in 0..heads {
            for j in 0..2 {
                for i in 0..dh / 2 {
                    let src = h * dh + j * (dh / 2) + i;
                    let dst = h * dh + i * 2 + j;
                    permuted[dst * cols..(dst + 1) * cols]
                        .copy_from_slice(&hf[src * cols..(src + 1) * cols]);
                }
            }
        }
        let t = HostTensor {
            shape: vec![rows, cols],
            data: permuted,
        };
        assert_eq!(unpermute_rope_rows(&t, heads).data, hf);
    }
}

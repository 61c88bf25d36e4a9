//! Host-side weights: a tensor read from a file as f32 with its shape, and the
//! [`WeightSource`] trait that architectures load from, so one loader serves safetensors
//! directories and GGUF files alike.

use crate::error::ModelError;
use burn::module::Param;
use burn::prelude::*;
use std::path::{Path, PathBuf};

/// A dense f32 tensor in host memory, row-major, with its file-side shape.
#[derive(Debug, Clone)]
pub struct HostTensor {
    /// Shape in the file's convention (PyTorch order: `[out, in]` for a linear weight).
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

impl HostTensor {
    /// Moves the tensor onto `device` as a rank-`D` burn tensor.
    pub fn to_tensor<const D: usize>(&self, device: &Device) -> Tensor<D> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), self.shape.clone()),
            device,
        )
    }
}

/// Anything that hands out named f32 tensors: a safetensors file, a GGUF file (dequantised).
pub trait WeightSource {
    /// The file, for error messages.
    fn path(&self) -> &Path;
    /// The tensor called `name`, converted to f32.
    fn tensor(&self, name: &str) -> Result<HostTensor, ModelError>;
    /// Whether a tensor called `name` exists.
    fn contains(&self, name: &str) -> bool;

    /// The tensor called `name`, checked against `expected` shape.
    fn tensor_shaped(&self, name: &str, expected: &[usize]) -> Result<HostTensor, ModelError> {
        let t = self.tensor(name)?;
        if t.shape != expected {
            return Err(ModelError::Shape {
                path: self.path().into(),
                name: name.into(),
                found: t.shape,
                expected: expected.to_vec(),
            });
        }
        Ok(t)
    }

    /// A linear layer from a PyTorch-layout weight `[out, in]` (transposed to burn's
    /// `[in, out]`) and an optional bias.
    fn linear(
        &self,
        weight: &str,
        bias: Option<&str>,
        d_in: usize,
        d_out: usize,
        device: &Device,
    ) -> Result<burn::nn::Linear, ModelError> {
        let w = self.tensor_shaped(weight, &[d_out, d_in])?;
        let w: Tensor<2> = w.to_tensor(device).transpose();
        let bias = match bias {
            Some(b) => Some(Param::from_tensor(
                self.tensor_shaped(b, &[d_out])?.to_tensor::<1>(device),
            )),
            None => None,
        };
        Ok(burn::nn::Linear {
            weight: Param::from_tensor(w),
            bias,
        })
    }

    /// A rank-1 parameter (a norm's scale or shift).
    fn vector(
        &self,
        name: &str,
        len: usize,
        device: &Device,
    ) -> Result<Param<Tensor<1>>, ModelError> {
        Ok(Param::from_tensor(
            self.tensor_shaped(name, &[len])?.to_tensor(device),
        ))
    }
}

/// A safetensors file read into memory; tensors are converted to f32 on request (from F32,
/// F64, F16 or BF16).
pub struct SafetensorsFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl SafetensorsFile {
    /// Reads `path` and checks that its header parses.
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        let bytes = fs_err::read(path).map_err(|e| ModelError::file(path, e))?;
        safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| ModelError::file(path, format!("not a safetensors file: {e}")))?;
        Ok(Self {
            path: path.into(),
            bytes,
        })
    }

    fn view(&self) -> safetensors::SafeTensors<'_> {
        safetensors::SafeTensors::deserialize(&self.bytes).expect("header checked at open")
    }

    /// Names of all tensors in the file.
    pub fn names(&self) -> Vec<String> {
        self.view().names().into_iter().map(String::from).collect()
    }
}

impl WeightSource for SafetensorsFile {
    fn path(&self) -> &Path {
        &self.path
    }

    fn contains(&self, name: &str) -> bool {
        self.view().tensor(name).is_ok()
    }

    fn tensor(&self, name: &str) -> Result<HostTensor, ModelError> {
        let st = self.view();
        let view = st.tensor(name).map_err(|_| ModelError::MissingTensor {
            path: self.path.clone(),
            name: name.into(),
        })?;
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            safetensors::Dtype::F32 => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            safetensors::Dtype::F64 => raw
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                .collect(),
            safetensors::Dtype::F16 => raw
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            safetensors::Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(ModelError::file(
                    &self.path,
                    format!("tensor `{name}` has dtype {other:?}; expected F32, F64, F16 or BF16"),
                ));
            }
        };
        Ok(HostTensor {
            shape: view.shape().to_vec(),
            data,
        })
    }
}

/// Several safetensors shards of one model (`model-00001-of-00002.safetensors`, ...), looked
/// up by tensor name.
pub struct ShardedSafetensors {
    path: PathBuf,
    shards: Vec<SafetensorsFile>,
}

impl ShardedSafetensors {
    /// Opens every `*.safetensors` file in `dir`.
    pub fn open_dir(dir: &Path) -> Result<Self, ModelError> {
        let mut files: Vec<PathBuf> = fs_err::read_dir(dir)
            .map_err(|e| ModelError::file(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(ModelError::file(
                dir,
                "no *.safetensors file in this folder",
            ));
        }
        let shards = files
            .iter()
            .map(|f| SafetensorsFile::open(f))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            path: dir.into(),
            shards,
        })
    }
}

impl WeightSource for ShardedSafetensors {
    fn path(&self) -> &Path {
        &self.path
    }

    fn contains(&self, name: &str) -> bool {
        self.shards.iter().any(|s| s.contains(name))
    }

    fn tensor(&self, name: &str) -> Result<HostTensor, ModelError> {
        match self.shards.iter().find(|s| s.contains(name)) {
            Some(shard) => shard.tensor(name),
            None => Err(ModelError::MissingTensor {
                path: self.path.clone(),
                name: name.into(),
            }),
        }
    }
}

//! Per-example gradients of the causal LM in factored form: which weights are tapped
//! ([`GradBlock`], in [`CausalLm::grad_blocks`] order), how a batched forward pass records each
//! weight's input and a zero probe on its output ([`GradTap`]), and the gradients one backward
//! leaves on them. The forward pass itself (and where it taps) is in [`crate::causal_lm`].

use crate::causal_lm::CausalLm;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::Gradients;

/// A weight matrix whose per-example gradient is a sum of outer products `Σ_t u_t v_tᵀ`
/// (`rows × cols` in the HF orientation: output × input; a bias is one more input column whose
/// value is 1). The token embedding is one block (`vocab × hidden`), shared by a tied head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradBlock {
    /// The weight's HF name (without `.weight`).
    pub name: String,
    /// Length of `u` (output side; the vocabulary for the embedding).
    pub rows: usize,
    /// Length of `v` (input side, plus one with a bias).
    pub cols: usize,
}

/// One [`GradBlock`]'s gradient in burn's layout. Its flat (HF) layout is `[rows, cols]`
/// row-major: a table as it is; a linear layer's weight transposed (burn stores `[in, out]`,
/// HF `[out, in]`) with the bias, if any, as an extra last column.
// A few dozen of these live per backward: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum BlockGradient {
    /// An embedding table, `[rows, cols]` in both layouts.
    Table(Tensor<2>),
    /// A linear layer: weight `[in, out]` and optional bias `[out]`.
    Linear {
        /// The weight's gradient, burn layout `[in, out]`.
        weight: Tensor<2>,
        /// The bias's gradient, `[out]`.
        bias: Option<Tensor<1>>,
    },
}

/// One factor of a tapped outer product.
#[derive(Debug, Clone)]
pub enum Factor {
    /// Values recorded in the forward pass, `[batch, positions, dim]` (no autodiff).
    Values(Tensor<3>),
    /// A zero tensor added to a map's output: its gradient is the output gradient `δ`.
    Probe(Tensor<3>),
    /// Token ids `[batch, positions]`: one-hot vectors over the vocabulary.
    Tokens(Tensor<2, Int>),
}

/// One use of a [`GradBlock`] in a forward pass: the block's per-example gradient gets
/// `Σ_t u_t v_tᵀ` from it (summed over positions `t` of each example).
#[derive(Debug, Clone)]
pub struct TapEntry {
    /// Index into [`CausalLm::grad_blocks`].
    pub block: usize,
    /// Output-side factor.
    pub u: Factor,
    /// Input-side factor.
    pub v: Factor,
}

/// Records, during one batched forward pass on an autodiff device, every weight's input and a
/// zero probe on its output, so that one backward of the summed per-example losses yields each
/// example's gradient of every linear map and of the embedding in factored form (LoGra-style
/// per-example gradients without materialising them). RMSNorm gains are not tapped.
#[derive(Debug, Default)]
pub struct GradTap {
    /// Entries in forward order.
    pub entries: Vec<TapEntry>,
}

/// The seven linear maps of a decoder block, in [`CausalLm::grad_blocks`] order.
pub(crate) const BLOCK_LINEARS: [&str; 7] = [
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
    "mlp.down_proj",
];

/// Index of linear `which` (in [`BLOCK_LINEARS`]) of decoder layer `layer`.
pub(crate) fn block_index(layer: usize, which: usize) -> usize {
    1 + layer * BLOCK_LINEARS.len() + which
}

/// `linear(x)`; with a tap, also records `x` (with a ones column when there is a bias) and adds
/// a zero probe to the output.
pub(crate) fn tapped_linear(
    linear: &Linear,
    x: Tensor<3>,
    block: usize,
    tap: &mut Option<&mut GradTap>,
) -> Tensor<3> {
    let y = linear.forward(x.clone());
    let Some(tap) = tap.as_deref_mut() else {
        return y;
    };
    let input = x.inner();
    let v = if linear.bias.is_some() {
        let [b, t, _] = input.dims();
        let ones = Tensor::<3>::ones([b, t, 1], &input.device());
        Tensor::cat(vec![input, ones], 2)
    } else {
        input
    };
    let probe = Tensor::<3>::zeros(y.dims(), &y.device()).require_grad();
    tap.entries.push(TapEntry {
        block,
        u: Factor::Probe(probe.clone()),
        v: Factor::Values(v),
    });
    y + probe
}

impl CausalLm {
    /// The weights whose per-example gradients [`GradTap`] captures, in a fixed order: the
    /// token embedding (with a tied head), the seven linear maps of each layer, an untied head.
    pub fn grad_blocks(&self) -> Vec<GradBlock> {
        let c = &self.config;
        let (h, dh) = (c.hidden_size, c.head_dim);
        let mut blocks = vec![GradBlock {
            name: "model.embed_tokens".into(),
            rows: c.vocab_size,
            cols: h,
        }];
        for i in 0..c.num_layers {
            let shapes = [
                (c.num_heads * dh, h),
                (c.num_kv_heads * dh, h),
                (c.num_kv_heads * dh, h),
                (h, c.num_heads * dh),
                (c.intermediate_size, h),
                (c.intermediate_size, h),
                (h, c.intermediate_size),
            ];
            for (which, (rows, cols)) in BLOCK_LINEARS.iter().zip(shapes) {
                let bias = c.attention_bias
                    && which.starts_with("self_attn")
                    && *which != "self_attn.o_proj";
                blocks.push(GradBlock {
                    name: format!("model.layers.{i}.{which}"),
                    rows,
                    cols: cols + usize::from(bias),
                });
            }
        }
        if self.decoder.lm_head.is_some() {
            blocks.push(GradBlock {
                name: "lm_head".into(),
                rows: c.vocab_size,
                cols: h,
            });
        }
        blocks
    }

    /// Each [`GradBlock`]'s gradient after one backward, as burn holds it (no copy or
    /// transpose on the device: the caller lays it out); `None` where a parameter took no
    /// gradient.
    pub fn block_gradients(&self, grads: &Gradients) -> Option<Vec<BlockGradient>> {
        let linear = |l: &Linear| -> Option<BlockGradient> {
            Some(BlockGradient::Linear {
                weight: l.weight.val().grad(grads)?,
                bias: match &l.bias {
                    Some(b) => Some(b.val().grad(grads)?),
                    None => None,
                },
            })
        };
        let mut out = vec![BlockGradient::Table(
            self.decoder.embed_tokens.weight.val().grad(grads)?,
        )];
        for layer in &self.decoder.layers {
            let (a, m) = (&layer.attention, &layer.mlp);
            for l in [
                &a.q_proj,
                &a.k_proj,
                &a.v_proj,
                &a.o_proj,
                &m.gate_proj,
                &m.up_proj,
                &m.down_proj,
            ] {
                out.push(linear(l)?);
            }
        }
        if let Some(head) = &self.decoder.lm_head {
            out.push(linear(head)?);
        }
        Some(out)
    }

    /// The RMSNorm gains' gradients (each layer's two, then the final norm): the parameters
    /// [`Self::block_gradients`] leaves out.
    pub fn norm_gradients(&self, grads: &Gradients) -> Option<Vec<Tensor<1>>> {
        let mut out = Vec::with_capacity(2 * self.decoder.layers.len() + 1);
        for layer in &self.decoder.layers {
            out.push(layer.input_norm.gamma.val().grad(grads)?);
            out.push(layer.post_attention_norm.gamma.val().grad(grads)?);
        }
        out.push(self.decoder.norm.gamma.val().grad(grads)?);
        Some(out)
    }
}

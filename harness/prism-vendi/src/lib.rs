//! Pure maths on feature matrices: Vendi scores of any order, cosine k-means and local density.
//!
//! No model code lives here, so it builds and tests in seconds and every stage (G-Vendi,
//! embedding baselines, subset strategies, synthesis) shares one implementation.

pub mod bench;
pub mod density;
pub mod kmeans;
pub mod matrix;
pub mod npy;
pub mod projection_noise;
pub mod vendi;

pub use kmeans::{KMeans, cosine_kmeans, kmeans_pp, lloyd, nearest_centroid};
pub use matrix::Features;
pub use projection_noise::{ProjectionNoise, projection_noise};
pub use vendi::{
    Order, VendiError, VendiScore, kernel_matrix, vendi_of_centroids, vendi_of_kernel, vendi_score,
};

//! Spherical Lloyd against an independent numpy implementation on fixed data
//! (`tests/reference/kmeans_reference.py` writes the fixture).

use prism_vendi::{Features, cosine_kmeans, kmeans_pp, lloyd, nearest_centroid};

fn fixture() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/reference/kmeans_fixture.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn data(f: &serde_json::Value) -> Features {
    let values: Vec<f32> = f["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    Features::new(
        values,
        f["n"].as_u64().unwrap() as usize,
        f["d"].as_u64().unwrap() as usize,
    )
}

fn indices(v: &serde_json::Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn lloyd_matches_the_numpy_reference_from_the_same_centres() {
    let f = fixture();
    let x = data(&f);
    for case in f["cases"].as_array().unwrap() {
        let init = indices(&case["init"]);
        let max_iter = case["max_iter"].as_u64().unwrap() as usize;
        let fitted = lloyd(&x, x.select(&init), max_iter);
        assert_eq!(
            fitted.assignment,
            indices(&case["assignment"]),
            "k = {}",
            init.len()
        );
        let inertia = case["inertia"].as_f64().unwrap();
        assert!(
            (fitted.inertia - inertia).abs() < 1e-9,
            "k = {}: {} vs {inertia}",
            init.len(),
            fitted.inertia
        );
        // Placing the rows again in the fitted clustering gives the same assignment.
        assert_eq!(nearest_centroid(&x, &fitted.centroids), fitted.assignment);
    }
}

#[test]
fn seeded_kmeans_is_a_lloyd_fixed_point_and_never_worse_than_its_start() {
    let x = data(&fixture());
    for (k, seed) in [(4, 0), (8, 1), (20, 2)] {
        let a = cosine_kmeans(&x, k, seed, 100);
        assert_eq!(a, cosine_kmeans(&x, k, seed, 100), "seeded");
        // One more Lloyd round from the result changes nothing: converged.
        let again = lloyd(&x, a.centroids.clone(), 1);
        assert_eq!(again.assignment, a.assignment, "k = {k}");
        let one_round = lloyd(&x, x.select(&kmeans_pp(&x, k, seed)), 1);
        assert!(a.inertia <= one_round.inertia + 1e-9);
    }
}

//! The slice in axum answers exactly as the other three do.

#[tokio::test]
async fn keeps_the_slice_contract() -> anyhow::Result<()> {
    frameworks::contract::check_binary(env!("CARGO_BIN_EXE_catalog-axum")).await
}

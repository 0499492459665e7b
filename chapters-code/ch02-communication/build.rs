//! Generates the gRPC client and server from `proto/catalog.proto`.
//! Needs `protoc` (Debian: `apt-get install protobuf-compiler`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_prost_build::compile_protos("proto/catalog.proto")?;
    Ok(())
}

//! Compiles `proto/` (the Hubble API) with protox, so no system `protoc` is needed, into a tonic
//! client and server (prost) and serde impls with proto field names (pbjson).

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out = PathBuf::from(env::var("OUT_DIR")?);
    let files = [
        "proto/flow/flow.proto",
        "proto/relay/relay.proto",
        "proto/observer/observer.proto",
        "proto/peer/peer.proto",
    ];
    let fds = protox::compile(files, ["proto"])?;
    let descriptor_path = out.join("hubble_descriptor.bin");
    std::fs::write(&descriptor_path, prost::Message::encode_to_vec(&fds))?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_well_known_types(true)
        .file_descriptor_set_path(&descriptor_path)
        // Go writes timestamps as RFC 3339 with `Z` and 0/3/6/9 fraction digits; pbjson-types
        // does not, so `Timestamp` is our own type (src/api/timestamp.rs).
        .extern_path(".google.protobuf.Timestamp", "crate::api::Timestamp")
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(fds)?;

    let descriptors = std::fs::read(&descriptor_path)?;
    pbjson_build::Builder::new()
        .register_descriptors(&descriptors)?
        .preserve_proto_field_names()
        .extern_path(".google.protobuf.Timestamp", "crate::api::Timestamp")
        .extern_path(".google.protobuf", "::pbjson_types")
        .build(&[".flow", ".relay", ".observer", ".peer"])?;

    for name in ["flow", "relay", "observer", "peer"] {
        let path = out.join(format!("{name}.serde.rs"));
        let code = std::fs::read_to_string(&path)?;
        std::fs::write(&path, keep_unknown_enum_values(&code))?;
    }
    Ok(())
}

/// pbjson refuses to write an enum number it does not know and to read one as a number; a newer
/// Hubble sends such values and Go's protojson writes them as numbers. Route every enum field
/// through `crate::api::json::{EnumOut, EnumIn}`, which keep the number instead of failing.
fn keep_unknown_enum_values(code: &str) -> String {
    let rules = [
        (
            r#"let v = ([\w:]+)::try_from\((self\.[\w#]+)\)\s*\.map_err\(\|_\| serde::ser::Error::custom\(format!\("Invalid variant \{\}", self\.[\w#]+\)\)\)\?;"#,
            "let v = crate::api::json::EnumOut::<$1>::new($2);",
        ),
        (
            r#"let v = (self\.[\w#]+)\.iter\(\)\.cloned\(\)\.map\(\|v\| \{\s*([\w:]+)::try_from\(v\)\s*\.map_err\(\|_\| serde::ser::Error::custom\(format!\("Invalid variant \{\}", v\)\)\)\s*\}\)\.collect::<std::result::Result<Vec<_>, _>>\(\)\?;"#,
            "let v = $1.iter().map(|v| crate::api::json::EnumOut::<$2>::new(*v)).collect::<Vec<_>>();",
        ),
        (
            r#"next_value::<Vec<([\w:]+)>>\(\)\?\.into_iter\(\)\.map\(\|x\| x as i32\)\.collect\(\)"#,
            "next_value::<Vec<crate::api::json::EnumIn<$1>>>()?.into_iter().map(|x| x.0).collect()",
        ),
        (
            r#"next_value::<([\w:]+)>\(\)\? as i32"#,
            "next_value::<crate::api::json::EnumIn<$1>>()?.0",
        ),
    ];
    let mut code = code.to_string();
    for (pattern, replacement) in rules {
        let re = regex::Regex::new(pattern).expect("valid pattern");
        code = re.replace_all(&code, replacement).into_owned();
    }
    assert!(
        !code.contains("Invalid variant") && !code.contains(">()? as i32"),
        "pbjson output changed shape: update keep_unknown_enum_values"
    );
    code
}

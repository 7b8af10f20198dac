//! Compiles `proto/` (the Hubble API) with protox, so no system `protoc` is needed, into a tonic
//! client and server (prost) and serde impls with proto field names (pbjson).

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    version_text();
    let out = PathBuf::from(env::var("OUT_DIR")?);
    let files = [
        "proto/flow/flow.proto",
        "proto/relay/relay.proto",
        "proto/observer/observer.proto",
        "proto/peer/peer.proto",
    ];
    let fds = protox::compile(files, ["proto"])?;
    std::fs::write(out.join("jsonpb_schema.rs"), jsonpb_schema(&fds))?;
    let leading_oneofs = leading_oneofs(&fds);
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
        let code = keep_unknown_enum_values(&code);
        std::fs::write(&path, oneofs_where_declared(&code, name, &leading_oneofs))?;
    }
    Ok(())
}

/// Messages whose oneof is declared before their other fields, as (package, message, oneof).
/// Go's protojson writes fields in declaration order (`{"flow":…,"node_name":…,"time":…}`);
/// pbjson writes a oneof after every other field. A oneof anywhere but first or last would need
/// more than [`oneofs_where_declared`] does: the build stops rather than print a different order.
fn leading_oneofs(
    fds: &protox::prost_reflect::prost_types::FileDescriptorSet,
) -> Vec<(String, String, String)> {
    use protox::prost_reflect::prost_types::DescriptorProto;
    /// Regular fields first: fine only if every oneof is at the end.
    fn oneofs_last(m: &DescriptorProto) -> bool {
        let first_oneof = m.field.iter().position(|f| f.oneof_index.is_some());
        first_oneof.is_none_or(|at| m.field[at..].iter().all(|f| f.oneof_index.is_some()))
    }
    fn check_nested(m: &DescriptorProto) {
        for n in &m.nested_type {
            assert!(
                oneofs_last(n),
                "{}: a oneof before regular fields",
                n.name()
            );
            check_nested(n);
        }
    }
    let mut found = Vec::new();
    for f in &fds.file {
        for m in &f.message_type {
            check_nested(m);
            if m.field.first().and_then(|f| f.oneof_index).is_none() {
                assert!(
                    oneofs_last(m),
                    "{}: a oneof between regular fields; teach build.rs its JSON order",
                    m.name()
                );
                continue;
            }
            let idx = m.field[0].oneof_index.unwrap_or_default();
            let end = m
                .field
                .iter()
                .take_while(|f| f.oneof_index == Some(idx))
                .count();
            assert!(
                m.oneof_decl.len() == 1 && m.field[end..].iter().all(|f| f.oneof_index.is_none()),
                "{}: more than one oneof; teach build.rs its JSON order",
                m.name()
            );
            found.push((
                f.package().to_string(),
                m.name().to_string(),
                m.oneof_decl[idx as usize].name().to_string(),
            ));
        }
    }
    found
}

/// Moves each leading oneof's block in pbjson's `Serialize` impl to the top, where protojson
/// writes it.
fn oneofs_where_declared(
    code: &str,
    package: &str,
    leading: &[(String, String, String)],
) -> String {
    let mut code = code.to_string();
    for (_, message, oneof) in leading.iter().filter(|(p, _, _)| p == package) {
        let imp = format!("impl serde::Serialize for {message} {{");
        let start = code
            .find(&imp)
            .unwrap_or_else(|| panic!("no Serialize for {message}"));
        let open = format!(
            "let mut struct_ser = serializer.serialize_struct(\"{package}.{message}\", len)?;\n"
        );
        let after_open = start
            + code[start..]
                .find(&open)
                .unwrap_or_else(|| panic!("{message}: pbjson output changed shape"))
            + open.len();
        let head = format!("if let Some(v) = self.{oneof}.as_ref() {{");
        let block_at = after_open
            + code[after_open..]
                .find(&head)
                .unwrap_or_else(|| panic!("{message}: no {oneof} block"));
        // The block ends at the brace that closes `head`'s.
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in code[block_at..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(block_at + i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("{message}: unbalanced {oneof} block"));
        // Take the whole lines: the block's indentation and its newline.
        let line_start = code[..block_at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = code[end..].find('\n').map_or(code.len(), |i| end + i + 1);
        let block = code[line_start..line_end].to_string();
        code.replace_range(line_start..line_end, "");
        code.insert_str(after_open, &block);
    }
    code
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

/// Tables for `src/observe/fastjson.rs`: every message of the API with its fields in the order
/// pbjson writes them (declaration order, as protojson: see `oneofs_where_declared`), each field's JSON kind, and
/// every enum's names (the first name of each number, as prost and pbjson name it), sorted.
fn jsonpb_schema(fds: &protox::prost_reflect::prost_types::FileDescriptorSet) -> String {
    use std::collections::HashMap;
    use std::fmt::Write;
    let mut messages = Vec::new(); // (full name, descriptor)
    let mut enums = Vec::new();
    fn walk<'a>(
        prefix: &str,
        msgs: &'a [protox::prost_reflect::prost_types::DescriptorProto],
        enums_in: &'a [protox::prost_reflect::prost_types::EnumDescriptorProto],
        messages: &mut Vec<(
            String,
            &'a protox::prost_reflect::prost_types::DescriptorProto,
        )>,
        enums: &mut Vec<(
            String,
            &'a protox::prost_reflect::prost_types::EnumDescriptorProto,
        )>,
    ) {
        for e in enums_in {
            enums.push((format!("{prefix}.{}", e.name()), e));
        }
        for m in msgs {
            let name = format!("{prefix}.{}", m.name());
            messages.push((name.clone(), m));
            walk(&name, &m.nested_type, &m.enum_type, messages, enums);
        }
    }
    for f in &fds.file {
        walk(
            &format!(".{}", f.package()),
            &f.message_type,
            &f.enum_type,
            &mut messages,
            &mut enums,
        );
    }
    let msg_index: HashMap<&str, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.as_str(), i))
        .collect();
    let enum_index: HashMap<&str, usize> = enums
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.as_str(), i))
        .collect();
    let mut code = String::from("// Generated by build.rs from proto/: see jsonpb_schema there.\n");
    code.push_str("pub static MESSAGES: &[Msg] = &[\n");
    for (name, m) in &messages {
        let map_entry = m.options.as_ref().is_some_and(|o| o.map_entry());
        // Declaration order, as protojson writes (the serde impls are made to match: see
        // `oneofs_where_declared`).
        let order: Vec<&protox::prost_reflect::prost_types::FieldDescriptorProto> =
            m.field.iter().collect();
        let unsupported = map_entry
            || order.len() > 64
            || m.oneof_decl.len() > 64
            || m.field.iter().any(|f| f.proto3_optional());
        writeln!(
            code,
            "    Msg {{ name: {name:?}, supported: {}, fields: &[",
            !unsupported
        )
        .unwrap();
        for f in order {
            let repeated = f.label == Some(3);
            let ty = f.type_name();
            let kind = match f.r#type.unwrap_or(0) {
                9 => "Str".to_string(),
                8 => "Bool".to_string(),
                5 | 15 | 17 => "I32".to_string(),
                13 | 7 => "U32".to_string(),
                3 | 16 | 18 => "I64".to_string(),
                4 | 6 => "U64".to_string(),
                14 => match enum_index.get(ty) {
                    Some(i) => format!("Enum({i})"),
                    None => "Unsupported".to_string(),
                },
                11 => match ty {
                    ".google.protobuf.Timestamp" => "Timestamp".to_string(),
                    ".google.protobuf.BoolValue" => "BoolValue".to_string(),
                    ".google.protobuf.Int32Value" => "I32Value".to_string(),
                    ".google.protobuf.UInt32Value" => "U32Value".to_string(),
                    _ => match msg_index.get(ty) {
                        Some(&i)
                            if !messages[i]
                                .1
                                .options
                                .as_ref()
                                .is_some_and(|o| o.map_entry()) =>
                        {
                            format!("Message({i})")
                        }
                        _ => "Unsupported".to_string(),
                    },
                },
                _ => "Unsupported".to_string(),
            };
            let oneof = f.oneof_index.map_or(-1, |i| i);
            writeln!(
                code,
                "        Field {{ name: {:?}, kind: Kind::{kind}, repeated: {repeated}, oneof: {oneof}, number: {}, ty: {} }},",
                f.name(),
                f.number(),
                f.r#type.unwrap_or(0)
            )
            .unwrap();
        }
        code.push_str("    ] },\n");
    }
    code.push_str("];\npub static ENUMS: &[&[(&str, i32)]] = &[\n");
    for (_, e) in &enums {
        let mut seen = std::collections::HashSet::new();
        let mut names: Vec<(&str, i32)> = e
            .value
            .iter()
            .filter(|v| seen.insert(v.number()))
            .map(|v| (v.name(), v.number()))
            .collect();
        names.sort();
        writeln!(code, "    &{names:?},").unwrap();
    }
    code.push_str("];\n");
    for (want, konst) in [
        (".observer.GetFlowsResponse", "GET_FLOWS_RESPONSE"),
        (".flow.Flow", "FLOW"),
    ] {
        writeln!(
            code,
            "#[allow(dead_code)]\npub const {konst}: usize = {};",
            msg_index[want]
        )
        .unwrap();
    }
    code
}

/// `HUBTOP_VERSION_TEXT` for `hubtop --version`: the package version and the commit it was built
/// from (`0.1.0 (commit 1a2b3c4d5e6f)`), or says the build is not from a git checkout. The build
/// runs again when the checked-out commit changes (HEAD, the branch it names, packed refs).
fn version_text() {
    use std::process::Command;
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/packed-refs");
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{branch}");
        }
    }
    let commit = git(&["rev-parse", "--short=12", "HEAD"])
        .filter(|c| c.bytes().all(|b| b.is_ascii_hexdigit()));
    let version = env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let text = match commit {
        Some(c) => format!("{version} (commit {c})"),
        None => format!("{version} (commit unknown: not built from a git checkout)"),
    };
    println!("cargo:rustc-env=HUBTOP_VERSION_TEXT={text}");
}

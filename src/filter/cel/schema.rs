//! The Hubble protobuf schema as CEL sees it, read from the descriptor set `build.rs` writes
//! (so it always matches the generated types), and field reads from a message's wire encoding.
//!
//! Reading the encoding rather than the Rust structs lets one generic path serve every field of
//! every message, the way cel-go reflects over Go protos.

use std::collections::HashMap;
use std::sync::OnceLock;

use pbjson_types::{DescriptorProto, FileDescriptorSet};
use prost::Message as _;

static DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hubble_descriptor.bin"));

/// The scalar or message type of a field, as `descriptor.proto` names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    Double,
    Float,
    Int64,
    Uint64,
    Int32,
    Fixed64,
    Fixed32,
    Bool,
    String,
    Bytes,
    Uint32,
    Enum,
    Sfixed32,
    Sfixed64,
    Sint32,
    Sint64,
    /// A message, by full name without the leading dot (`flow.Layer4`).
    Message(String),
    /// Groups and anything newer than this code: readable as nothing.
    Unsupported,
}

#[derive(Debug, Clone)]
pub(super) struct Field {
    pub(super) name: String,
    pub(super) number: u32,
    pub(super) kind: Kind,
    pub(super) repeated: bool,
}

#[derive(Debug)]
pub(super) struct Message {
    pub(super) name: String,
    pub(super) fields: Vec<Field>,
}

impl Message {
    pub(super) fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug, Default)]
pub(super) struct Schema {
    messages: HashMap<String, Message>,
    /// Enum values by full name (`flow.Verdict.DROPPED`).
    enum_values: HashMap<String, i32>,
}

impl Schema {
    pub(super) fn message(&self, name: &str) -> Option<&Message> {
        self.messages.get(name)
    }

    pub(super) fn enum_value(&self, name: &str) -> Option<i32> {
        self.enum_values.get(name).copied()
    }
}

/// The schema, built on first use.
pub(super) fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = Schema::default();
        // The descriptors are ours, written by build.rs; a failure leaves the schema empty, and
        // every CEL expression then fails to compile with "undefined field".
        if let Ok(set) = FileDescriptorSet::decode(DESCRIPTORS) {
            for file in &set.file {
                let package = file.package.clone().unwrap_or_default();
                for e in &file.enum_type {
                    add_enum(&mut schema, &package, e);
                }
                for m in &file.message_type {
                    add_message(&mut schema, &package, m);
                }
            }
        }
        schema
    })
}

/// Whether `path` (`l4.TCP.source_port`) names a field of `message` (`flow.Flow`) as a
/// protobuf FieldMask path may: proto field names joined by dots, each inside the message the one
/// before it names, a repeated or map field only last (Go's `fieldmaskpb.New`).
pub(crate) fn is_field_path(message: &str, path: &str) -> bool {
    let schema = schema();
    let mut current = schema.message(message);
    for name in path.split('.') {
        let Some(m) = current else { return false };
        let Some(f) = m.field(name) else { return false };
        current = match &f.kind {
            Kind::Message(next) if !f.repeated => schema.message(next),
            _ => None,
        };
    }
    true
}

fn qualify(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_string()
    } else {
        format!("{scope}.{name}")
    }
}

fn add_enum(schema: &mut Schema, scope: &str, e: &pbjson_types::EnumDescriptorProto) {
    let name = qualify(scope, e.name.as_deref().unwrap_or_default());
    for v in &e.value {
        let value = qualify(&name, v.name.as_deref().unwrap_or_default());
        schema
            .enum_values
            .insert(value, v.number.unwrap_or_default());
    }
}

fn add_message(schema: &mut Schema, scope: &str, m: &DescriptorProto) {
    let name = qualify(scope, m.name.as_deref().unwrap_or_default());
    for nested in &m.nested_type {
        add_message(schema, &name, nested);
    }
    for e in &m.enum_type {
        add_enum(schema, &name, e);
    }
    let fields = m
        .field
        .iter()
        .map(|f| Field {
            name: f.name.clone().unwrap_or_default(),
            number: f.number.unwrap_or_default() as u32,
            kind: kind(f.r#type.unwrap_or_default(), f.type_name.as_deref()),
            repeated: f.label == Some(3),
        })
        .collect();
    schema
        .messages
        .insert(name.clone(), Message { name, fields });
}

fn kind(t: i32, type_name: Option<&str>) -> Kind {
    match t {
        1 => Kind::Double,
        2 => Kind::Float,
        3 => Kind::Int64,
        4 => Kind::Uint64,
        5 => Kind::Int32,
        6 => Kind::Fixed64,
        7 => Kind::Fixed32,
        8 => Kind::Bool,
        9 => Kind::String,
        11 => Kind::Message(
            type_name
                .unwrap_or_default()
                .trim_start_matches('.')
                .to_string(),
        ),
        12 => Kind::Bytes,
        13 => Kind::Uint32,
        14 => Kind::Enum,
        15 => Kind::Sfixed32,
        16 => Kind::Sfixed64,
        17 => Kind::Sint32,
        18 => Kind::Sint64,
        _ => Kind::Unsupported,
    }
}

/// One field occurrence in a message's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    Fixed32(u32),
}

/// The field occurrences of an encoded message, in order; stops at the first malformed byte.
pub(super) fn occurrences(mut buf: &[u8]) -> impl Iterator<Item = (u32, Wire<'_>)> {
    std::iter::from_fn(move || {
        let key = varint(&mut buf)?;
        let number = u32::try_from(key >> 3).ok()?;
        let wire = match key & 7 {
            0 => Wire::Varint(varint(&mut buf)?),
            1 => Wire::Fixed64(u64::from_le_bytes(take(&mut buf, 8)?.try_into().ok()?)),
            2 => {
                let len = usize::try_from(varint(&mut buf)?).ok()?;
                Wire::Len(take(&mut buf, len)?)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(take(&mut buf, 4)?.try_into().ok()?)),
            _ => return None,
        };
        Some((number, wire))
    })
}

pub(super) fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for i in 0..10 {
        let (&b, rest) = buf.split_first()?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if buf.len() < n {
        return None;
    }
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Some(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{Flow, Layer4, Tcp, layer4};

    #[test]
    fn field_paths_are_checked_as_fieldmaskpb_checks_them() {
        for ok in [
            "time",
            "time.seconds",
            "l4.TCP.source_port",
            "source.labels",
            "IP",
            "l7",
        ] {
            assert!(is_field_path("flow.Flow", ok), "{ok}");
        }
        for bad in [
            "foo.bar",
            "",
            "time.",
            "source.labels.x",
            "l4.tcp",
            "Time",
            "ip",
        ] {
            assert!(!is_field_path("flow.Flow", bad), "{bad}");
        }
    }

    #[test]
    fn the_schema_knows_the_flow_message_and_its_enums() {
        let s = schema();
        let flow = s.message("flow.Flow").expect("flow.Flow");
        let l4 = flow.field("l4").unwrap();
        assert_eq!(
            (l4.number, &l4.kind),
            (6, &Kind::Message("flow.Layer4".into()))
        );
        assert!(flow.field("source_names").unwrap().repeated);
        assert_eq!(s.enum_value("flow.Verdict.DROPPED"), Some(2));
        assert!(s.message("flow.FlowFilter.Experimental").is_some());
    }

    #[test]
    fn occurrences_walk_an_encoded_message() {
        let flow = Flow {
            uuid: "u".into(),
            l4: Some(Layer4 {
                protocol: Some(layer4::Protocol::Tcp(Tcp {
                    destination_port: 443,
                    ..Default::default()
                })),
            }),
            ..Default::default()
        };
        let bytes = flow.encode_to_vec();
        let fields: Vec<_> = occurrences(&bytes).collect();
        assert!(fields.contains(&(34, Wire::Len(b"u"))));
        let Some((_, Wire::Len(l4))) = fields.iter().find(|(n, _)| *n == 6) else {
            panic!()
        };
        let Some((1, Wire::Len(tcp))) = occurrences(l4).next() else {
            panic!()
        };
        assert_eq!(occurrences(tcp).next(), Some((2, Wire::Varint(443))));
        assert_eq!(occurrences(&[0xff]).count(), 0);
    }
}

//! CEL types, as cel-go names them in its messages, and the type each Flow field reads as
//! (enums are ints; `google.protobuf` wrappers are their value or null).

use std::fmt;

use super::schema::{Field, Kind, schema};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Type {
    Dyn,
    Null,
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Timestamp,
    Duration,
    /// A message, by full name.
    Msg(String),
    List(Box<Type>),
    Map(Box<Type>, Box<Type>),
    /// A `google.protobuf.*Value` field: the value, or null when unset.
    Wrapper(Box<Type>),
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Dyn => f.write_str("dyn"),
            Type::Null => f.write_str("null_type"),
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Uint => f.write_str("uint"),
            Type::Double => f.write_str("double"),
            Type::String => f.write_str("string"),
            Type::Bytes => f.write_str("bytes"),
            Type::Timestamp => f.write_str("google.protobuf.Timestamp"),
            Type::Duration => f.write_str("google.protobuf.Duration"),
            Type::Msg(name) => f.write_str(name),
            Type::List(t) => write!(f, "list({t})"),
            Type::Map(k, v) => write!(f, "map({k}, {v})"),
            Type::Wrapper(t) => write!(f, "wrapper({t})"),
        }
    }
}

impl Type {
    /// A wrapper compares and computes as the value it wraps.
    pub(super) fn unwrapped(&self) -> &Type {
        match self {
            Type::Wrapper(t) => t,
            t => t,
        }
    }

    pub(super) fn nullable(&self) -> bool {
        matches!(
            self,
            Type::Null
                | Type::Dyn
                | Type::Msg(_)
                | Type::Wrapper(_)
                | Type::Timestamp
                | Type::Duration
        )
    }

    pub(super) fn numeric(&self) -> bool {
        matches!(
            self.unwrapped(),
            Type::Int | Type::Uint | Type::Double | Type::Dyn
        )
    }
}

/// The common type of two operands that must agree, if they do.
pub(super) fn unify(a: &Type, b: &Type) -> Option<Type> {
    let (ua, ub) = (a.unwrapped(), b.unwrapped());
    match (ua, ub) {
        _ if ua == ub => Some(ua.clone()),
        (Type::Dyn, t) | (t, Type::Dyn) => Some(t.clone()),
        (Type::Null, _) if b.nullable() => Some(b.clone()),
        (_, Type::Null) if a.nullable() => Some(a.clone()),
        (Type::List(x), Type::List(y)) => unify(x, y).map(|t| Type::List(Box::new(t))),
        (Type::Map(k1, v1), Type::Map(k2, v2)) => Some(Type::Map(
            Box::new(unify(k1, k2)?),
            Box::new(unify(v1, v2)?),
        )),
        _ => None,
    }
}

/// The type a field reads as.
pub(super) fn field_type(field: &Field) -> Type {
    let t = match &field.kind {
        Kind::Double | Kind::Float => Type::Double,
        Kind::Int64
        | Kind::Int32
        | Kind::Sfixed32
        | Kind::Sfixed64
        | Kind::Sint32
        | Kind::Sint64
        | Kind::Enum => Type::Int,
        Kind::Uint64 | Kind::Uint32 | Kind::Fixed64 | Kind::Fixed32 => Type::Uint,
        Kind::Bool => Type::Bool,
        Kind::String => Type::String,
        Kind::Bytes => Type::Bytes,
        Kind::Message(name) => message_type(name),
        Kind::Unsupported => Type::Dyn,
    };
    if field.repeated {
        Type::List(Box::new(t))
    } else {
        t
    }
}

fn message_type(name: &str) -> Type {
    let wrap = |t| Type::Wrapper(Box::new(t));
    match name {
        "google.protobuf.BoolValue" => wrap(Type::Bool),
        "google.protobuf.Int32Value" | "google.protobuf.Int64Value" => wrap(Type::Int),
        "google.protobuf.UInt32Value" | "google.protobuf.UInt64Value" => wrap(Type::Uint),
        "google.protobuf.FloatValue" | "google.protobuf.DoubleValue" => wrap(Type::Double),
        "google.protobuf.StringValue" => wrap(Type::String),
        "google.protobuf.BytesValue" => wrap(Type::Bytes),
        "google.protobuf.Timestamp" => Type::Timestamp,
        "google.protobuf.Duration" => Type::Duration,
        name if schema().message(name).is_some() => Type::Msg(name.to_string()),
        _ => Type::Dyn,
    }
}

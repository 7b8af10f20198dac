//! JSON glue: enum fields that keep unknown numbers, and the jsonpb line form of a
//! `GetFlowsResponse` as `hubble observe -o jsonpb` prints it.

use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Writes a known enum number as its name and an unknown one as the number, like Go's protojson.
pub struct EnumOut<E> {
    value: i32,
    kind: PhantomData<E>,
}

impl<E> EnumOut<E> {
    pub fn new(value: i32) -> Self {
        EnumOut {
            value,
            kind: PhantomData,
        }
    }
}

impl<E: TryFrom<i32> + Serialize> Serialize for EnumOut<E> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match E::try_from(self.value) {
            Ok(known) => known.serialize(s),
            Err(_) => s.serialize_i32(self.value),
        }
    }
}

/// Reads an enum field given as a name (which must be known) or as any 32-bit number.
pub struct EnumIn<E>(pub i32, PhantomData<E>);

impl<'de, E> Deserialize<'de> for EnumIn<E>
where
    E: Deserialize<'de> + Into<i32>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<E>(PhantomData<E>);
        impl<'de, E: Deserialize<'de> + Into<i32>> de::Visitor<'de> for V<E> {
            type Value = i32;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an enum name or number")
            }
            fn visit_i64<Er: de::Error>(self, v: i64) -> Result<i32, Er> {
                i32::try_from(v).map_err(|_| Er::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<Er: de::Error>(self, v: u64) -> Result<i32, Er> {
                i32::try_from(v).map_err(|_| Er::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<Er: de::Error>(self, v: &str) -> Result<i32, Er> {
                use de::IntoDeserializer;
                let d: de::value::StrDeserializer<'_, Er> = v.into_deserializer();
                E::deserialize(d).map(Into::into)
            }
            fn visit_unit<Er: de::Error>(self) -> Result<i32, Er> {
                // protojson reads `null` as the default value.
                Ok(0)
            }
        }
        d.deserialize_any(V::<E>(PhantomData))
            .map(|v| EnumIn(v, PhantomData))
    }
}

//! The Hubble API: generated prost/tonic types, plus the JSON glue that makes them print exactly
//! as `hubble observe -o jsonpb` does.

pub mod json;
mod timestamp;
pub use timestamp::Timestamp;

#[allow(clippy::all, clippy::pedantic, deprecated)]
pub mod flow {
    include!(concat!(env!("OUT_DIR"), "/flow.rs"));
    include!(concat!(env!("OUT_DIR"), "/flow.serde.rs"));
}
#[allow(clippy::all, clippy::pedantic, deprecated)]
pub mod relay {
    include!(concat!(env!("OUT_DIR"), "/relay.rs"));
    include!(concat!(env!("OUT_DIR"), "/relay.serde.rs"));
}
#[allow(clippy::all, clippy::pedantic, deprecated)]
pub mod observer {
    include!(concat!(env!("OUT_DIR"), "/observer.rs"));
    include!(concat!(env!("OUT_DIR"), "/observer.serde.rs"));
}
#[allow(clippy::all, clippy::pedantic, deprecated)]
pub mod peer {
    include!(concat!(env!("OUT_DIR"), "/peer.rs"));
    include!(concat!(env!("OUT_DIR"), "/peer.serde.rs"));
}

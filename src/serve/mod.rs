//! `hubtop serve`: a Hubble-compatible Observer server (demo generator or capture replay).

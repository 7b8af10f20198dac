//! `hubtop observe`: headless, like `hubble observe`.

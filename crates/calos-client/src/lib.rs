//! The CALOS client SDK (see the crate description).

//! The Worker's catalog in D1, what is known across rooms: [`rooms`] (made, listed,
//! retitled), [`names`] (claims) and [`dms`] (direct messages and their two parties).
//! Only rows and SQL live here; the routes and decisions that use them are
//! `src/lib.rs` and `src/room_list.rs`, `src/names.rs` and `src/dms.rs`.

pub mod dms;
pub mod names;
pub mod rooms;

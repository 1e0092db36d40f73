//! The tests of the frames, by concern: decoding client frames, client frames on the
//! wire, the client_id scan, server frames and the message bound.

mod decode;
mod scan;
mod server;
mod wire;

//! The room's identifiers as types of their own, so that a connection id, a name key
//! and a claim id cannot be mixed up, and the kind of room the shell opened.
//!
//! Each holds an `Rc<str>`: they are cloned into frames' targets, waiters and maps
//! often, and a clone is a count, not a copy.

use std::borrow::Borrow;
use std::fmt;
use std::rc::Rc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Rc<str>);

        impl Default for $name {
            /// Empty: an id not known (such as an attachment's from before claims).
            fn default() -> Self {
                $name("".into())
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.into())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s.into())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self::from)
            }
        }
    };
}

id_type!(
    /// One WebSocket connection of the room (the shell makes it, 96 random bits).
    ConnId
);
id_type!(
    /// A name's key: the form two spellings of one name share (see `name_key`).
    NameKey
);
id_type!(
    /// Who someone is: the id of the claim a connection proved (see the design's
    /// "Identity and ownership").
    ClaimId
);

/// What kind of room this is, decided by the shell from the room's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomKind {
    /// A room anyone may enter; the first to enter owns it.
    Room,
    /// A direct message between two claims: nobody owns or moderates it, and each sees
    /// how far the other has read.
    Dm,
}

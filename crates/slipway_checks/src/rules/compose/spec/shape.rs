//! The vocabulary slipway describes the Compose file format with: a value's shape
//! (scalar types, lists, mappings with known keys, mappings with free names) and the
//! shorthands Compose uses everywhere (string-or-list, list-or-mapping, a number or a
//! string that interpolation turns into one).

/// The shape a value of a compose file must have.
pub(crate) enum Shape {
    /// Anything.
    Any,
    Str,
    /// Any number, integer or not.
    Num,
    Int,
    Bool,
    Null,
    /// A string among these.
    Enum(&'static [&'static str]),
    /// Any of these forms.
    Alt(&'static [Shape]),
    /// A list of items; `true`: no item twice.
    List(&'static Shape, bool),
    /// A mapping with known keys.
    Keys(&'static Keys),
    /// A mapping whose names are free (matching the pattern, when there is one) and
    /// whose values have one shape.
    Names(&'static Shape, Option<Pattern>),
}

/// A mapping with known keys.
pub(crate) struct Keys {
    pub fields: &'static [(&'static str, Shape)],
    pub required: &'static [&'static str],
    /// Other descriptions whose keys are allowed here too (a service is a container,
    /// a workload and a service).
    pub also: &'static [&'static Keys],
    /// `x-` keys are allowed besides the known ones.
    pub extensions: bool,
}

/// What free names must look like, with its spelling for messages.
#[derive(Clone, Copy)]
pub(crate) struct Pattern {
    pub shown: &'static str,
    pub ok: fn(&str) -> bool,
}

use Shape::{Alt, Bool, Int, List, Names, Null, Num, Str};

/// A boolean, or a string (interpolated).
pub(crate) const BOOL: Shape = Alt(&[Bool, Str]);
/// An integer, or a string (interpolated or with a unit).
pub(crate) const INT: Shape = Alt(&[Int, Str]);
/// A number, or a string.
pub(crate) const NUM: Shape = Alt(&[Num, Str]);
pub(crate) const STRINGS: Shape = List(&Str, true);
pub(crate) const STRING_LIST: Shape = List(&Str, false);
pub(crate) const STRING_OR_LIST: Shape = Alt(&[Str, STRINGS]);
/// `KEY=value` items, or a mapping of names to scalars.
pub(crate) const LIST_OR_DICT: Shape = Alt(&[
    Names(&Alt(&[Str, Num, Bool, Null]), Some(ANY_NAME)),
    STRINGS,
]);
/// A command as a string or as argv (or nothing).
pub(crate) const COMMAND: Shape = Alt(&[Null, Str, STRING_LIST]);
pub(crate) const MAP: Shape = Names(&Shape::Any, None);

/// Any non-empty name.
pub(crate) const ANY_NAME: Pattern = Pattern {
    shown: ".+",
    ok: |s| !s.is_empty(),
};

/// Service, network, volume... names: letters, digits, `.`, `_`, `-`.
pub(crate) const RESOURCE_NAME: Pattern = Pattern {
    shown: "^[a-zA-Z0-9._-]+$",
    ok: |s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    },
};

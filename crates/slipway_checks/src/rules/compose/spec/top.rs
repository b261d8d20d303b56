//! The top level of a compose file and the project-wide resources it declares:
//! networks, volumes, secrets, configs, models, `include`.

use super::service::{JOB, SERVICE};
use super::shape::{Keys, Shape, BOOL, LIST_OR_DICT, RESOURCE_NAME, STRING_OR_LIST};
use Shape::{Alt, Any, Int, List, Names, Null, Str};

/// `external: true`, or the legacy `external: { name: ... }`.
const EXTERNAL: Shape = Alt(&[Shape::Bool, Str, Names(&Any, None)]);

/// A mapping of named resources; an entry may be left empty.
const fn named(entry: &'static Shape) -> Shape {
    Names(entry, Some(RESOURCE_NAME))
}

const IPAM_CONFIG: Keys = Keys {
    fields: &[
        ("subnet", Str),
        ("ip_range", Str),
        ("gateway", Str),
        ("aux_addresses", Names(&Str, None)),
    ],
    required: &[],
    also: &[],
    extensions: true,
};

const IPAM: Keys = Keys {
    fields: &[
        ("driver", Str),
        ("config", List(&Shape::Keys(&IPAM_CONFIG), false)),
        ("options", Names(&Str, None)),
    ],
    required: &[],
    also: &[],
    extensions: true,
};

const NETWORK: Keys = Keys {
    fields: &[
        ("name", Str),
        ("driver", Str),
        ("driver_opts", Names(&Alt(&[Str, Shape::Num]), None)),
        ("ipam", Shape::Keys(&IPAM)),
        ("external", EXTERNAL),
        ("internal", BOOL),
        ("enable_ipv4", BOOL),
        ("enable_ipv6", BOOL),
        ("attachable", BOOL),
        ("labels", LIST_OR_DICT),
    ],
    required: &[],
    also: &[],
    extensions: true,
};

const VOLUME: Keys = Keys {
    fields: &[
        ("name", Str),
        ("driver", Str),
        ("driver_opts", Names(&Alt(&[Str, Shape::Num]), None)),
        ("external", EXTERNAL),
        ("labels", LIST_OR_DICT),
    ],
    required: &[],
    also: &[],
    extensions: true,
};

const SECRET: Keys = Keys {
    fields: &[
        ("name", Str),
        ("environment", Str),
        ("file", Str),
        ("external", EXTERNAL),
        ("labels", LIST_OR_DICT),
        ("driver", Str),
        ("driver_opts", Names(&Alt(&[Str, Shape::Num]), None)),
        ("template_driver", Str),
    ],
    required: &[],
    also: &[],
    extensions: true,
};

const CONFIG: Keys = Keys {
    fields: &[
        ("name", Str),
        ("content", Str),
        ("environment", Str),
        ("file", Str),
        ("external", EXTERNAL),
        ("labels", LIST_OR_DICT),
        ("template_driver", Str),
    ],
    required: &[],
    also: &[],
    extensions: true,
};

const MODEL: Keys = Keys {
    fields: &[
        ("name", Str),
        ("model", Str),
        ("context_size", Int),
        ("runtime_flags", List(&Str, false)),
    ],
    required: &["model"],
    also: &[],
    extensions: true,
};

const INCLUDE: Keys = Keys {
    fields: &[
        ("path", STRING_OR_LIST),
        ("env_file", STRING_OR_LIST),
        ("project_directory", Str),
    ],
    required: &[],
    also: &[],
    extensions: true,
};

/// The top level of a compose file.
pub(crate) const ROOT: Keys = Keys {
    fields: &[
        ("version", Str),
        ("name", Str),
        ("include", List(&Alt(&[Str, Shape::Keys(&INCLUDE)]), false)),
        ("services", named(&Shape::Keys(&SERVICE))),
        ("jobs", named(&Shape::Keys(&JOB))),
        ("models", named(&Shape::Keys(&MODEL))),
        ("networks", named(&Alt(&[Null, Shape::Keys(&NETWORK)]))),
        ("volumes", named(&Alt(&[Null, Shape::Keys(&VOLUME)]))),
        ("secrets", named(&Shape::Keys(&SECRET))),
        ("configs", named(&Shape::Keys(&CONFIG))),
    ],
    required: &[],
    also: &[],
    extensions: true,
};

//! `deploy:` (replicas, resources, restart, update and rollback, placement),
//! `develop:` (watch rules) and `healthcheck:`.

use super::nested::HOOK;
use super::shape::{
    Keys, Shape, BOOL, INT, LIST_OR_DICT, NUM, STRINGS, STRING_LIST, STRING_OR_LIST,
};
use Shape::{Alt, Enum, List, Str};

const fn keys(keys: &'static [(&'static str, Shape)]) -> Keys {
    Keys {
        fields: keys,
        required: &[],
        also: &[],
        extensions: true,
    }
}

const ROLLOUT: Keys = keys(&[
    ("parallelism", INT),
    ("delay", Str),
    ("failure_action", Str),
    ("monitor", Str),
    ("max_failure_ratio", NUM),
    ("order", Enum(&["start-first", "stop-first"])),
]);

const LIMITS: Keys = keys(&[("cpus", NUM), ("memory", Str), ("pids", INT)]);

const DISCRETE: Keys = keys(&[("kind", Str), ("value", NUM)]);
const GENERIC: Keys = keys(&[("discrete_resource_spec", Shape::Keys(&DISCRETE))]);

const DEVICE_REQUEST: Keys = Keys {
    fields: &[
        ("capabilities", STRINGS),
        ("count", INT),
        ("device_ids", STRINGS),
        ("driver", Str),
        ("options", LIST_OR_DICT),
    ],
    required: &["capabilities"],
    also: &[],
    extensions: true,
};

const RESERVATIONS: Keys = keys(&[
    ("cpus", NUM),
    ("memory", Str),
    ("generic_resources", List(&Shape::Keys(&GENERIC), false)),
    ("devices", List(&Shape::Keys(&DEVICE_REQUEST), false)),
]);

const RESOURCES: Keys = keys(&[
    ("limits", Shape::Keys(&LIMITS)),
    ("reservations", Shape::Keys(&RESERVATIONS)),
]);

const RESTART_POLICY: Keys = keys(&[
    ("condition", Str),
    ("delay", Str),
    ("max_attempts", INT),
    ("window", Str),
]);

const PREFERENCE: Keys = keys(&[("spread", Str)]);
const PLACEMENT: Keys = keys(&[
    ("constraints", STRING_LIST),
    ("preferences", List(&Shape::Keys(&PREFERENCE), false)),
    ("max_replicas_per_node", INT),
]);

/// `deploy:`.
pub(crate) const DEPLOY: Keys = keys(&[
    ("mode", Str),
    ("endpoint_mode", Str),
    ("replicas", INT),
    ("labels", LIST_OR_DICT),
    ("rollback_config", Shape::Keys(&ROLLOUT)),
    ("update_config", Shape::Keys(&ROLLOUT)),
    ("resources", Shape::Keys(&RESOURCES)),
    ("restart_policy", Shape::Keys(&RESTART_POLICY)),
    ("placement", Shape::Keys(&PLACEMENT)),
]);

const WATCH: Keys = Keys {
    fields: &[
        ("ignore", STRING_OR_LIST),
        ("include", STRING_OR_LIST),
        ("path", Str),
        (
            "action",
            Enum(&["rebuild", "sync", "restart", "sync+restart", "sync+exec"]),
        ),
        ("target", Str),
        ("exec", Shape::Keys(&HOOK)),
        ("initial_sync", Shape::Bool),
    ],
    required: &["path", "action"],
    also: &[],
    extensions: true,
};

/// `develop:`.
pub(crate) const DEVELOP: Keys = keys(&[("watch", List(&Shape::Keys(&WATCH), false))]);

/// `healthcheck:`.
pub(crate) const HEALTHCHECK: Keys = keys(&[
    ("disable", BOOL),
    ("interval", Str),
    ("retries", NUM),
    ("test", Alt(&[Str, STRING_LIST])),
    ("timeout", Str),
    ("start_period", Str),
    ("start_interval", Str),
]);

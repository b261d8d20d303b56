//! The structured values inside a service: build, ports and volumes in long form,
//! secrets/configs, networks, dependencies, devices, logging, ulimits, blkio, hooks.

use super::shape::{
    Keys, Shape, ANY_NAME, BOOL, COMMAND, INT, LIST_OR_DICT, NUM, RESOURCE_NAME, STRINGS,
    STRING_LIST, STRING_OR_LIST,
};
use Shape::{Alt, Enum, List, Names, Null, Num, Str};

const fn keys(keys: &'static [(&'static str, Shape)]) -> Keys {
    Keys {
        fields: keys,
        required: &[],
        also: &[],
        extensions: true,
    }
}

/// `host:ip` items, or a mapping of host names to one address or several.
pub(crate) const EXTRA_HOSTS: Shape =
    Alt(&[Names(&Alt(&[Str, STRING_LIST]), Some(ANY_NAME)), STRINGS]);

/// `nofile: 1024` or `nofile: { soft: 1024, hard: 2048 }`.
const ULIMIT_PAIR: Keys = Keys {
    fields: &[("hard", INT), ("soft", INT)],
    required: &["soft", "hard"],
    also: &[],
    extensions: true,
};
pub(crate) const ULIMITS: Shape = Names(&Alt(&[INT, Shape::Keys(&ULIMIT_PAIR)]), None);

const LONG_SECRET: Keys = keys(&[
    ("source", Str),
    ("target", Str),
    ("uid", Str),
    ("gid", Str),
    ("mode", NUM),
]);
/// A service's `secrets:` or `configs:`: names, or long forms.
pub(crate) const SECRET_OR_CONFIG: Shape = List(&Alt(&[Str, Shape::Keys(&LONG_SECRET)]), false);

const BUILD_KEYS: Keys = keys(&[
    ("context", Str),
    ("dockerfile", Str),
    ("dockerfile_inline", Str),
    ("entitlements", STRING_LIST),
    ("args", LIST_OR_DICT),
    ("ssh", LIST_OR_DICT),
    ("labels", LIST_OR_DICT),
    ("cache_from", STRING_LIST),
    ("cache_to", STRING_LIST),
    ("no_cache", BOOL),
    ("no_cache_filter", STRING_OR_LIST),
    ("additional_contexts", LIST_OR_DICT),
    ("network", Str),
    ("provenance", BOOL),
    ("sbom", BOOL),
    ("pull", BOOL),
    ("target", Str),
    ("shm_size", INT),
    ("extra_hosts", EXTRA_HOSTS),
    ("isolation", Str),
    ("privileged", BOOL),
    ("secrets", SECRET_OR_CONFIG),
    ("tags", STRING_LIST),
    ("ulimits", ULIMITS),
    ("platforms", STRING_LIST),
]);
/// `build: ./dir` or the long form.
pub(crate) const BUILD: Shape = Alt(&[Str, Shape::Keys(&BUILD_KEYS)]);

const DEPENDENCY: Keys = Keys {
    fields: &[
        ("restart", BOOL),
        ("required", Shape::Bool),
        (
            "condition",
            Enum(&[
                "service_started",
                "service_healthy",
                "service_completed_successfully",
            ]),
        ),
    ],
    required: &["condition"],
    also: &[],
    extensions: true,
};
/// `depends_on: [db]` or `depends_on: { db: { condition: ... } }`.
pub(crate) const DEPENDS_ON: Shape = Alt(&[
    STRINGS,
    Names(&Shape::Keys(&DEPENDENCY), Some(RESOURCE_NAME)),
]);

const LONG_PORT: Keys = keys(&[
    ("name", Str),
    ("mode", Str),
    ("host_ip", Str),
    ("target", INT),
    ("published", INT),
    ("protocol", Str),
    ("app_protocol", Str),
]);
/// `ports:` items: a number, a `host:container` string, or the long form.
pub(crate) const PORTS: Shape = List(&Alt(&[Num, Str, Shape::Keys(&LONG_PORT)]), true);

const BIND: Keys = keys(&[
    ("propagation", Str),
    ("create_host_path", BOOL),
    (
        "recursive",
        Enum(&["enabled", "disabled", "writable", "readonly"]),
    ),
    ("selinux", Enum(&["z", "Z"])),
]);
const VOLUME_OPTS: Keys = keys(&[("labels", LIST_OR_DICT), ("nocopy", BOOL), ("subpath", Str)]);
const TMPFS: Keys = keys(&[("size", INT), ("mode", NUM)]);
const IMAGE: Keys = keys(&[("subpath", Str)]);
const LONG_MOUNT: Keys = Keys {
    fields: &[
        (
            "type",
            Enum(&["bind", "volume", "tmpfs", "cluster", "npipe", "image"]),
        ),
        ("source", Str),
        ("target", Str),
        ("read_only", BOOL),
        ("consistency", Str),
        ("bind", Shape::Keys(&BIND)),
        ("volume", Shape::Keys(&VOLUME_OPTS)),
        ("tmpfs", Shape::Keys(&TMPFS)),
        ("image", Shape::Keys(&IMAGE)),
    ],
    required: &["type"],
    also: &[],
    extensions: true,
};
/// A service's `volumes:` items: `source:target[:mode]` strings or the long form.
pub(crate) const VOLUMES: Shape = List(&Alt(&[Str, Shape::Keys(&LONG_MOUNT)]), true);

const ATTACHMENT: Keys = keys(&[
    ("aliases", STRINGS),
    ("interface_name", Str),
    ("ipv4_address", Str),
    ("ipv6_address", Str),
    ("link_local_ips", STRINGS),
    ("mac_address", Str),
    ("driver_opts", Names(&Alt(&[Str, Num]), None)),
    ("priority", Num),
    ("gw_priority", Num),
    ("use_service_name_alias", BOOL),
]);
/// A service's `networks:`: names, or a mapping of names to attachment settings.
pub(crate) const NETWORKS: Shape = Alt(&[
    STRINGS,
    Names(&Alt(&[Shape::Keys(&ATTACHMENT), Null]), Some(RESOURCE_NAME)),
]);

const MODEL_USE: Keys = keys(&[("endpoint_var", Str), ("model_var", Str)]);
/// A service's `models:`.
pub(crate) const MODELS: Shape = Alt(&[
    STRINGS,
    Names(&Alt(&[Shape::Keys(&MODEL_USE), Null]), Some(RESOURCE_NAME)),
]);

const LONG_DEVICE: Keys = Keys {
    fields: &[("source", Str), ("target", Str), ("permissions", Str)],
    required: &["source"],
    also: &[],
    extensions: true,
};
pub(crate) const DEVICES: Shape = List(&Alt(&[Str, Shape::Keys(&LONG_DEVICE)]), false);

const GPU: Keys = keys(&[
    ("capabilities", STRINGS),
    ("count", INT),
    ("device_ids", STRINGS),
    ("driver", Str),
    ("options", LIST_OR_DICT),
]);
/// `gpus: all` or a list of device requests.
pub(crate) const GPUS: Shape = Alt(&[Enum(&["all"]), List(&Shape::Keys(&GPU), false)]);

const ENV_FILE_LONG: Keys = Keys {
    fields: &[("path", Str), ("format", Str), ("required", BOOL)],
    required: &["path"],
    also: &[],
    extensions: false,
};
pub(crate) const ENV_FILE: Shape =
    Alt(&[Str, List(&Alt(&[Str, Shape::Keys(&ENV_FILE_LONG)]), false)]);

pub(crate) const LOGGING: Keys = keys(&[
    ("driver", Str),
    ("options", Names(&Alt(&[Str, Num, Null]), None)),
]);

pub(crate) const CREDENTIAL_SPEC: Keys = keys(&[("config", Str), ("file", Str), ("registry", Str)]);

const BLKIO_LIMIT: Keys = Keys {
    fields: &[("path", Str), ("rate", INT)],
    required: &[],
    also: &[],
    extensions: false,
};
const BLKIO_WEIGHT: Keys = Keys {
    fields: &[("path", Str), ("weight", INT)],
    required: &[],
    also: &[],
    extensions: false,
};
const LIMITS: Shape = List(&Shape::Keys(&BLKIO_LIMIT), false);
pub(crate) const BLKIO: Keys = Keys {
    fields: &[
        ("device_read_bps", LIMITS),
        ("device_read_iops", LIMITS),
        ("device_write_bps", LIMITS),
        ("device_write_iops", LIMITS),
        ("weight", INT),
        ("weight_device", List(&Shape::Keys(&BLKIO_WEIGHT), false)),
    ],
    required: &[],
    also: &[],
    extensions: false,
};

/// A lifecycle hook (`post_start`, `pre_stop`, `develop.watch[].exec`).
pub(crate) const HOOK: Keys = Keys {
    fields: &[
        ("command", COMMAND),
        ("user", Str),
        ("privileged", BOOL),
        ("working_dir", Str),
        ("environment", LIST_OR_DICT),
    ],
    required: &["command"],
    also: &[],
    extensions: true,
};

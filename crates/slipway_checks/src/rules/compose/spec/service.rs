//! A service (and a job: a service that runs to completion on a trigger): the keys of
//! a container, of a workload (build, ports, dependencies, healthcheck) and its own
//! (deploy, develop, extends, hooks...).

use super::container::CONTAINER;
use super::deploy::{DEPLOY, DEVELOP, HEALTHCHECK};
use super::nested::{BUILD, DEPENDS_ON, HOOK, PORTS};
use super::shape::{Keys, Shape, BOOL, INT, STRINGS, STRING_LIST};
use Shape::{Alt, List, Names, Null, Num, Str};

const WORKLOAD: Keys = Keys {
    fields: &[
        ("build", BUILD),
        ("depends_on", DEPENDS_ON),
        ("healthcheck", Shape::Keys(&HEALTHCHECK)),
        ("ports", PORTS),
        ("expose", List(&Alt(&[Str, Num]), true)),
        ("stdin_open", BOOL),
        ("tty", BOOL),
    ],
    required: &[],
    also: &[],
    extensions: true,
};

const EXTENDS_FILE: Keys = Keys {
    fields: &[("service", Str), ("file", Str)],
    required: &["service"],
    also: &[],
    extensions: false,
};
const EXTENDS: Shape = Alt(&[Str, Shape::Keys(&EXTENDS_FILE)]);

const PROVIDER_VALUE: Shape = Alt(&[Str, Num, Shape::Bool]);
const PROVIDER: Keys = Keys {
    fields: &[
        ("type", Str),
        (
            "options",
            Names(&Alt(&[PROVIDER_VALUE, List(&PROVIDER_VALUE, false)]), None),
        ),
    ],
    required: &["type"],
    also: &[],
    extensions: true,
};

/// A `pre_start` hook runs a container of its own.
const PRE_START: Keys = Keys {
    fields: &[("per_replica", BOOL)],
    required: &[],
    also: &[&CONTAINER],
    extensions: true,
};

/// A service.
pub(crate) const SERVICE: Keys = Keys {
    fields: &[
        ("deploy", Alt(&[Null, Shape::Keys(&DEPLOY)])),
        ("develop", Alt(&[Null, Shape::Keys(&DEVELOP)])),
        ("profiles", STRINGS),
        ("restart", Str),
        ("scale", INT),
        ("attach", BOOL),
        ("container_name", Str),
        ("provider", Shape::Keys(&PROVIDER)),
        ("extends", EXTENDS),
        ("links", STRING_LIST),
        ("external_links", STRING_LIST),
        ("pre_start", List(&Shape::Keys(&PRE_START), false)),
        ("post_start", List(&Shape::Keys(&HOOK), false)),
        ("pre_stop", List(&Shape::Keys(&HOOK), false)),
    ],
    required: &[],
    also: &[&CONTAINER, &WORKLOAD],
    extensions: true,
};

const SCHEDULE: Keys = Keys {
    fields: &[
        ("cron", Str),
        ("timezone", Str),
        ("concurrency", Str),
        ("missed_fires", Str),
    ],
    required: &["cron"],
    also: &[],
    extensions: true,
};

const TRIGGERS: Keys = Keys {
    fields: &[
        ("manual", BOOL),
        (
            "schedule",
            List(&Alt(&[Str, Shape::Keys(&SCHEDULE)]), false),
        ),
    ],
    required: &[],
    also: &[],
    extensions: true,
};

/// A job: a container run to completion, by hand or on a schedule.
pub(crate) const JOB: Keys = Keys {
    fields: &[
        ("profiles", STRINGS),
        ("extends", EXTENDS),
        ("triggers", Shape::Keys(&TRIGGERS)),
    ],
    required: &["triggers"],
    also: &[&CONTAINER, &WORKLOAD],
    extensions: true,
};

//! L10001–L10005: importing a level-10 application manifest.

use super::Code;

pub(super) const CODES: &[Code] = codes! {
    /// ## What it reports
    /// A manifest slipway cannot use: it is not a mapping with `items:`, or it has
    /// no runnable item.
    ///
    /// ## Why
    /// Without a runnable item there is nothing to generate.
    ///
    /// ## Fix
    /// Give an item a runnable kind: `service`, `api`, `web`, `worker`, `runnable`
    /// or `entrypoint`.
    L10001 "not-a-level10-manifest" Error;

    /// ## What it reports
    /// A runnable item with neither `definition.path` nor `definition.image`.
    ///
    /// ## Why
    /// slipway builds from a path or runs an image; it has neither.
    ///
    /// ## Fix
    /// Add `definition.path` (a folder to build) or `definition.image`.
    L10002 "runnable-without-source" Error;

    /// ## What it reports
    /// A `depends_on` entry naming no item of the manifest.
    ///
    /// ## Why
    /// The start order has nothing to wait for.
    ///
    /// ## Fix
    /// Use the full id of an item of this manifest, or remove the entry.
    L10003 "unknown-item" Error;

    /// ## What it reports
    /// A data item (`database`, `cache`, `queue`, `broker`) whose `engine` slipway
    /// cannot provide.
    ///
    /// ## Why
    /// Only postgres, redis, nats, mysql, mongodb and amqp are run.
    ///
    /// ## Fix
    /// Use one of them, or run the engine yourself and remove the item.
    L10004 "unsupported-engine" Error;

    /// ## What it reports
    /// An item whose kind is neither runnable nor data; it is skipped.
    ///
    /// ## Why
    /// So you know which items the output does not contain.
    ///
    /// ## Fix
    /// Nothing, if that is intended; otherwise give it a runnable or data kind.
    L10005 "item-not-deployable" Info;
};

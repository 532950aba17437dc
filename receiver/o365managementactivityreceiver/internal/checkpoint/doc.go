// Package checkpoint is the receiver's memory of what it has delivered, so
// that after a restart, even one that follows a kill -9, it resumes without
// gaps and without sending a record twice.
//
// A Store keeps three things:
//
//   - per content type, a cursor: every blob created before it was
//     delivered, so the next listing starts there (less an overlap);
//   - the blobs delivered, by content type and contentId, so that a blob
//     listed again (overlapping windows, a restart) is not fetched again;
//   - the Ids of the records delivered, because the Management Activity
//     API delivers the same record (same Id) in more than one blob by
//     design and leaves removing the repeats to the consumer.
//
// A delivery goes Claim, then Commit or Release. Claim reserves a batch's
// Ids: an Id already delivered, or claimed by another batch still in
// flight, or repeated earlier in the same batch, is not fresh, so of many
// concurrent claimers exactly one gets each Id. Commit records what the
// next consumer accepted and writes it to storage before it returns;
// Release gives back what was not delivered. A record skipped because its
// Id was in flight elsewhere is left to that other delivery: if it is
// released instead of committed, its blob is not done, so the record comes
// again when that blob is fetched again.
//
// Guarantees, with a storage client:
//
//   - Whatever Commit or SetCursor returned nil for survives a crash: each
//     is one storage batch, which the file_storage extension applies
//     atomically, so a crash leaves the state before it or after it.
//   - A record whose Id was committed is not claimed fresh again while
//     its delivery is remembered: for Config.Retention after the commit,
//     unless more than Config.MaxIDs Ids are held, when the oldest
//     deliveries' Ids are forgotten first (Stats.Evicted counts them).
//   - Claims are not persisted: Ids claimed but not committed when the
//     process dies are fresh after the restart, so nothing claimed is lost.
//   - A failed write is not lost from memory: the state counts the
//     delivery, the error is returned, and the next write carries it again.
//
// What is not deduplicated: records with an empty Id, records of a blob
// that was partly committed before a crash when Config.Dedup is false (the
// blob is fetched and sent again whole), and records whose Ids were
// forgotten early because of MaxIDs. That is at-least-once for them, never
// a gap.
//
// Deliveries are forgotten Config.Retention after their commit: in memory
// by whichever call comes next, in storage by the writes that follow and
// by Expire, which the receiver calls once per poll.
//
// The storage format is described in format.go: one entry per Commit and a
// small head, so a Commit costs O(batch), not O(everything remembered).
// Ids are kept as 16 bytes each (see ids.go); a store holding a million Ids
// takes 45 to 60 bytes of memory per Id, depending mostly on how full the
// Id map's tables happen to be.
package checkpoint // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/checkpoint"

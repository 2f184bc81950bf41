package store

// EventBatchItem is the answer to one item of EventCreateBatch: Result as
// EventCreate would return it (Replayed for a key seen before, in an
// earlier request or earlier in the same batch), or Err, an *hook.Error
// (EIdempotencyConflict) that concerns this item alone and left nothing
// stored for it.
type EventBatchItem struct {
	Result *EventCreateResult
	Err    error
}

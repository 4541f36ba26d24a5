package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// readyzCounter is the counters document /readyz writes to.
const readyzCounter = "readyz_probe"

// CheckWrite proves, for /readyz, that the deployment accepts a write with
// the store's write concern (majority): a ping answers while a primary that
// has lost its majority, or a server out of disk space, refuses writes.
func (s *Store) CheckWrite(ctx context.Context) error {
	if err := s.Ping(ctx); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	_, err := s.c.counters.UpdateOne(ctx, bson.D{eq("_id", readyzCounter)},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "v", Value: int64(1)}}}}, options.Update().SetUpsert(true))
	return wrap("write probe", err)
}

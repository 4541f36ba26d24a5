package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// bulkRows is how many rows one multi-row statement carries: per-statement
// overhead (binding, the driver's round trip) dominates single-row writes.
const bulkRows = 64

// bulk prepares multi-row INSERT statements "prefix VALUES (?, ...), ... suffix"
// within one transaction, one per row count used.
type bulk struct {
	tx             *sql.Tx
	prefix, suffix string
	width          int
	stmts          map[int]*sql.Stmt
}

func newBulk(tx *sql.Tx, prefix string, width int, suffix string) *bulk {
	return &bulk{tx: tx, prefix: prefix, suffix: suffix, width: width, stmts: map[int]*sql.Stmt{}}
}

func (b *bulk) stmt(ctx context.Context, rows int) (*sql.Stmt, error) {
	if st := b.stmts[rows]; st != nil {
		return st, nil
	}
	row := "(?" + strings.Repeat(", ?", b.width-1) + ")"
	q := b.prefix + " VALUES " + row + strings.Repeat(", "+row, rows-1) + " " + b.suffix
	st, err := b.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare %d-row statement: %w", rows, err)
	}
	b.stmts[rows] = st
	return st, nil
}

// exec writes args (width values per row) in statements of up to bulkRows rows.
func (b *bulk) exec(ctx context.Context, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/b.width, bulkRows)
		st, err := b.stmt(ctx, n)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args[:n*b.width]...); err != nil {
			return err
		}
		args = args[n*b.width:]
	}
	return nil
}

// execRows writes args one row per statement.
func (b *bulk) execRows(ctx context.Context, args []any) error {
	st, err := b.stmt(ctx, 1)
	if err != nil {
		return err
	}
	for ; len(args) > 0; args = args[b.width:] {
		if _, err := st.ExecContext(ctx, args[:b.width]...); err != nil {
			return err
		}
	}
	return nil
}

func (b *bulk) close() {
	for _, st := range b.stmts {
		st.Close()
	}
}

// insertKeys runs the multi-row insert of args (width values per row, at
// most bulkRows rows) whose RETURNING clause gives two strings per inserted
// row, and adds those pairs to into.
func (b *bulk) insertKeys(ctx context.Context, args []any, into map[[2]string]bool) error {
	if len(args) == 0 {
		return nil
	}
	st, err := b.stmt(ctx, len(args)/b.width)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return err
		}
		into[k] = true
	}
	return rows.Err()
}

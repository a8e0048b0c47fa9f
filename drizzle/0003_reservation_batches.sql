CREATE TABLE "reservation_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"replica_id" text NOT NULL,
	"request_ids" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "usage_reserved_idx";--> statement-breakpoint
-- Rows reserved before this migration get one batch per replica, dated by the
-- youngest, so recovery finds them without the index and settles none early.
INSERT INTO "reservation_batches" ("id", "replica_id", "request_ids", "created_at")
SELECT 'rsb_migrated_' || "replica_id", "replica_id", array_agg("id" ORDER BY "created_at"), max("created_at")
FROM "usage_records" WHERE "status" = 'reserved' GROUP BY "replica_id";--> statement-breakpoint
-- Room on each page for the settling update of every row on it, so that update is HOT.
ALTER TABLE "usage_records" SET (fillfactor = 50);

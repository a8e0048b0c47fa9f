CREATE TABLE "leases" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"replica_id" text NOT NULL,
	"amount" numeric(30, 12) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "lease_id" text;--> statement-breakpoint
ALTER TABLE "leases" ADD CONSTRAINT "leases_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "leases_replica_idx" ON "leases" USING btree ("replica_id");--> statement-breakpoint
CREATE INDEX "leases_project_idx" ON "leases" USING btree ("project_id");
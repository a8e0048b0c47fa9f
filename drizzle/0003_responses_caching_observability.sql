CREATE TABLE "request_payloads" (
	"request_id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"request" "bytea" NOT NULL,
	"response" "bytea",
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "responses" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"api_key_id" text NOT NULL,
	"request_id" text,
	"status" text NOT NULL,
	"background" boolean DEFAULT false NOT NULL,
	"store" boolean DEFAULT true NOT NULL,
	"previous_response_id" text,
	"replica_id" text NOT NULL,
	"body" jsonb NOT NULL,
	"input_items" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "cache_write_price" numeric(20, 6);--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "cache_write_1h_price" numeric(20, 6);--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "capture_payloads" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "redact_patterns" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "cache_write_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "cache_write_1h_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "cache_write_price" numeric(20, 6) DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "cache_write_1h_price" numeric(20, 6) DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "attempt_log" jsonb;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "admission_ms" integer;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "trace_id" text;--> statement-breakpoint
ALTER TABLE "request_payloads" ADD CONSTRAINT "request_payloads_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "responses" ADD CONSTRAINT "responses_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "request_payloads_time_idx" ON "request_payloads" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "responses_project_time_idx" ON "responses" USING btree ("project_id","created_at");--> statement-breakpoint
CREATE INDEX "responses_time_idx" ON "responses" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "responses_open_idx" ON "responses" USING btree ("replica_id") WHERE status in ('queued', 'in_progress');
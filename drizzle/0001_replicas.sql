CREATE TABLE "replicas" (
	"id" text PRIMARY KEY NOT NULL,
	"hostname" text DEFAULT '' NOT NULL,
	"pid" integer,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);

-- A merchant's note on what a webhook endpoint is for (shown back by the API, never interpreted).
ALTER TABLE webhook_endpoints ADD COLUMN description TEXT;

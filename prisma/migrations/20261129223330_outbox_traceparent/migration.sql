-- W3C traceparent of the span that wrote the event (null when tracing is off or for older writers),
-- copied by the relay into the AMQP message headers.
-- AlterTable
ALTER TABLE "OutboxEvent" ADD COLUMN     "traceparent" VARCHAR(55);

// Which of $eventIds are already stored (served by the interaction_event_id constraint's index).
UNWIND $eventIds AS eventId
MATCH ()-[r:INTERACTED {eventId: eventId}]->()
RETURN eventId

-- (4) full refresh: journeys from the sources, then every enabled model's credits.
SELECT attrib.refresh();

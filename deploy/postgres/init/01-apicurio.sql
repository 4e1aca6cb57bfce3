-- docker-compose.yml only: the schema registry (Apicurio) keeps its schemas in their own database.
-- `logflow` itself is created by POSTGRES_DB.
CREATE DATABASE apicurio;

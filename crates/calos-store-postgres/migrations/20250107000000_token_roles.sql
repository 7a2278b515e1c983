-- API tokens scoped below their admin's role (NULL: the admin's role).
ALTER TABLE api_tokens ADD COLUMN role TEXT;

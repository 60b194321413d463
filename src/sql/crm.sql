
-- ------------------------------------------------------------------
-- crm.sql — the CRM data model: attrib's own tables, settings and the model
-- registry.  Every table keyed per account carries account_id in its primary
-- key so the same schema distributes by account on Citus.  These tables are
-- registered with pg_extension_config_dump: pg_dump keeps their rows.
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.channels (
	channel pg_catalog.text PRIMARY KEY CHECK (channel <> ''),
	channel_group pg_catalog.text,
	is_direct pg_catalog.bool NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.channels IS 'Marketing and sales channels (optional: a touch''s channel need not be listed here). is_direct marks channels the *_non_direct models skip, in addition to the direct_channels setting.';
COMMENT ON COLUMN @extschema@.channels.channel IS 'Channel name as it appears on touches, e.g. paid_search.';
COMMENT ON COLUMN @extschema@.channels.channel_group IS 'Optional grouping for reports, e.g. paid, organic, sales.';
COMMENT ON COLUMN @extschema@.channels.is_direct IS 'True for direct / unattributable traffic.';

CREATE TABLE @extschema@.campaigns (
	campaign_id pg_catalog.text PRIMARY KEY CHECK (campaign_id <> ''),
	name pg_catalog.text,
	channel pg_catalog.text,
	cost pg_catalog.numeric CHECK (cost IS NULL OR (cost >= 0 AND cost <> 'NaN')),
	currency pg_catalog.bpchar(3) CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$'),
	started_at pg_catalog.timestamptz
);
COMMENT ON TABLE @extschema@.campaigns IS 'Campaigns with their channel and optional cost (for ROI).';
COMMENT ON COLUMN @extschema@.campaigns.campaign_id IS 'CRM campaign id (text).';
COMMENT ON COLUMN @extschema@.campaigns.name IS 'Campaign name.';
COMMENT ON COLUMN @extschema@.campaigns.channel IS 'The campaign''s channel.';
COMMENT ON COLUMN @extschema@.campaigns.cost IS 'Total cost of the campaign, in its currency (NULL: unknown).';
COMMENT ON COLUMN @extschema@.campaigns.currency IS 'ISO 4217 currency of the cost; NULL means the reporting currency.';
COMMENT ON COLUMN @extschema@.campaigns.started_at IS 'When the campaign started (informational).';

CREATE TABLE @extschema@.accounts (
	account_id pg_catalog.text PRIMARY KEY CHECK (account_id <> ''),
	name pg_catalog.text,
	segment pg_catalog.text,
	industry pg_catalog.text,
	owner pg_catalog.text,
	created_at pg_catalog.timestamptz
);
COMMENT ON TABLE @extschema@.accounts IS 'Companies (CRM accounts). The distribution key on Citus.';
COMMENT ON COLUMN @extschema@.accounts.account_id IS 'CRM account id (text, e.g. a Salesforce 18-character id or a HubSpot company id).';
COMMENT ON COLUMN @extschema@.accounts.name IS 'Account name.';
COMMENT ON COLUMN @extschema@.accounts.segment IS 'Segment for reports (e.g. SMB, Mid-Market, Enterprise).';
COMMENT ON COLUMN @extschema@.accounts.industry IS 'Industry for reports.';
COMMENT ON COLUMN @extschema@.accounts.owner IS 'Account owner (sales rep).';
COMMENT ON COLUMN @extschema@.accounts.created_at IS 'When the account was created in the CRM.';

CREATE TABLE @extschema@.contacts (
	account_id pg_catalog.text NOT NULL REFERENCES @extschema@.accounts ON DELETE CASCADE,
	contact_id pg_catalog.text NOT NULL CHECK (contact_id <> ''),
	email pg_catalog.text,
	title pg_catalog.text,
	lead_created_at pg_catalog.timestamptz,
	PRIMARY KEY (account_id, contact_id)
);
COMMENT ON TABLE @extschema@.contacts IS 'People at accounts; lead_created_at feeds the lead-creation (LC) milestone.';
COMMENT ON COLUMN @extschema@.contacts.account_id IS 'The contact''s account.';
COMMENT ON COLUMN @extschema@.contacts.contact_id IS 'CRM contact / lead id (text).';
COMMENT ON COLUMN @extschema@.contacts.email IS 'Email address (informational).';
COMMENT ON COLUMN @extschema@.contacts.title IS 'Job title (informational).';
COMMENT ON COLUMN @extschema@.contacts.lead_created_at IS 'When the person became a lead; NULL if unknown.';

CREATE TABLE @extschema@.opportunities (
	account_id pg_catalog.text NOT NULL REFERENCES @extschema@.accounts ON DELETE CASCADE,
	opportunity_id pg_catalog.text NOT NULL CHECK (opportunity_id <> ''),
	name pg_catalog.text,
	amount pg_catalog.numeric NOT NULL CHECK (amount <> 'NaN'),
	currency pg_catalog.bpchar(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
	created_at pg_catalog.timestamptz NOT NULL,
	closed_at pg_catalog.timestamptz,
	is_won pg_catalog.bool NOT NULL DEFAULT false,
	stage pg_catalog.text,
	owner pg_catalog.text,
	PRIMARY KEY (account_id, opportunity_id),
	CHECK (closed_at IS NULL OR closed_at >= created_at),
	CHECK (NOT is_won OR closed_at IS NOT NULL)
);
COMMENT ON TABLE @extschema@.opportunities IS 'Deals on accounts. Open: closed_at IS NULL; won: is_won; lost: closed and not won.';
COMMENT ON COLUMN @extschema@.opportunities.account_id IS 'The opportunity''s account.';
COMMENT ON COLUMN @extschema@.opportunities.opportunity_id IS 'CRM opportunity / deal id (text).';
COMMENT ON COLUMN @extschema@.opportunities.name IS 'Opportunity name.';
COMMENT ON COLUMN @extschema@.opportunities.amount IS 'Deal amount in its currency; credited to the minor unit of the currency.';
COMMENT ON COLUMN @extschema@.opportunities.currency IS 'ISO 4217 currency code of the amount.';
COMMENT ON COLUMN @extschema@.opportunities.created_at IS 'When the opportunity was created (the OC milestone; the lookback window starts before it).';
COMMENT ON COLUMN @extschema@.opportunities.closed_at IS 'When it closed (won or lost); NULL while open.';
COMMENT ON COLUMN @extschema@.opportunities.is_won IS 'True when closed won.';
COMMENT ON COLUMN @extschema@.opportunities.stage IS 'Current CRM stage (used by the forecast).';
COMMENT ON COLUMN @extschema@.opportunities.owner IS 'Opportunity owner (sales rep).';

CREATE TABLE @extschema@.opportunity_contact_roles (
	account_id pg_catalog.text NOT NULL,
	opportunity_id pg_catalog.text NOT NULL,
	contact_id pg_catalog.text NOT NULL,
	role pg_catalog.text,
	is_primary pg_catalog.bool NOT NULL DEFAULT false,
	PRIMARY KEY (account_id, opportunity_id, contact_id),
	FOREIGN KEY (account_id, opportunity_id) REFERENCES @extschema@.opportunities ON DELETE CASCADE,
	FOREIGN KEY (account_id, contact_id) REFERENCES @extschema@.contacts ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.opportunity_contact_roles IS 'The buying committee: contacts with a role on an opportunity.';
COMMENT ON COLUMN @extschema@.opportunity_contact_roles.account_id IS 'Account of the opportunity and the contact.';
COMMENT ON COLUMN @extschema@.opportunity_contact_roles.opportunity_id IS 'The opportunity.';
COMMENT ON COLUMN @extschema@.opportunity_contact_roles.contact_id IS 'The contact.';
COMMENT ON COLUMN @extschema@.opportunity_contact_roles.role IS 'Role, e.g. Decision Maker, Champion.';
COMMENT ON COLUMN @extschema@.opportunity_contact_roles.is_primary IS 'The primary contact (primary_contact scope).';

CREATE TABLE @extschema@.stage_events (
	account_id pg_catalog.text NOT NULL REFERENCES @extschema@.accounts ON DELETE CASCADE,
	event_id pg_catalog.text NOT NULL CHECK (event_id <> ''),
	opportunity_id pg_catalog.text,
	contact_id pg_catalog.text,
	stage pg_catalog.text NOT NULL CHECK (stage <> ''),
	occurred_at pg_catalog.timestamptz NOT NULL,
	PRIMARY KEY (account_id, event_id),
	FOREIGN KEY (account_id, opportunity_id) REFERENCES @extschema@.opportunities ON DELETE CASCADE,
	FOREIGN KEY (account_id, contact_id) REFERENCES @extschema@.contacts ON DELETE CASCADE,
	CHECK (opportunity_id IS NOT NULL OR contact_id IS NOT NULL)
);
COMMENT ON TABLE @extschema@.stage_events IS 'A contact or an opportunity entering a funnel stage (MQL, SAL, SQL, ...): stage:NAME milestones and the funnel.';
COMMENT ON COLUMN @extschema@.stage_events.account_id IS 'Account of the opportunity or contact.';
COMMENT ON COLUMN @extschema@.stage_events.event_id IS 'Id of the event (text).';
COMMENT ON COLUMN @extschema@.stage_events.opportunity_id IS 'The opportunity that entered the stage, or NULL.';
COMMENT ON COLUMN @extschema@.stage_events.contact_id IS 'The contact that entered the stage, or NULL.';
COMMENT ON COLUMN @extschema@.stage_events.stage IS 'Stage name, e.g. MQL.';
COMMENT ON COLUMN @extschema@.stage_events.occurred_at IS 'When the stage was entered.';

CREATE TABLE @extschema@.touches (
	account_id pg_catalog.text NOT NULL REFERENCES @extschema@.accounts ON DELETE CASCADE,
	touch_id pg_catalog.text NOT NULL CHECK (touch_id <> ''),
	occurred_at pg_catalog.timestamptz NOT NULL CHECK (pg_catalog.isfinite(occurred_at)),
	channel pg_catalog.text NOT NULL CHECK (channel <> ''),
	campaign_id pg_catalog.text REFERENCES @extschema@.campaigns ON DELETE SET NULL,
	contact_id pg_catalog.text,
	touch_type pg_catalog.text NOT NULL DEFAULT 'marketing' CHECK (touch_type IN ('marketing', 'sales')),
	activity pg_catalog.text,
	owner pg_catalog.text,
	PRIMARY KEY (account_id, touch_id),
	FOREIGN KEY (account_id, contact_id) REFERENCES @extschema@.contacts ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.touches IS 'Every recorded interaction, marketing or sales, of a contact or (contact_id NULL) of the account as a whole.';
COMMENT ON COLUMN @extschema@.touches.account_id IS 'The account the touch belongs to.';
COMMENT ON COLUMN @extschema@.touches.touch_id IS 'CRM id of the touch (text); breaks ties in time, bytewise.';
COMMENT ON COLUMN @extschema@.touches.occurred_at IS 'When the touch happened.';
COMMENT ON COLUMN @extschema@.touches.channel IS 'Channel (never NULL), e.g. paid_search, email, sales_call.';
COMMENT ON COLUMN @extschema@.touches.campaign_id IS 'Campaign, if any.';
COMMENT ON COLUMN @extschema@.touches.contact_id IS 'The contact touched; NULL for an account-level touch.';
COMMENT ON COLUMN @extschema@.touches.touch_type IS 'marketing or sales.';
COMMENT ON COLUMN @extschema@.touches.activity IS 'ad_click, web_visit, form_fill, email_open, email_click, call, meeting, demo, event, ...';
COMMENT ON COLUMN @extschema@.touches.owner IS 'Sales rep who made the touch, if any.';

CREATE INDEX touches_account_time ON @extschema@.touches (account_id, occurred_at);
CREATE INDEX touches_contact ON @extschema@.touches (account_id, contact_id);
CREATE INDEX stage_events_opportunity ON @extschema@.stage_events (account_id, opportunity_id);
CREATE INDEX stage_events_contact ON @extschema@.stage_events (account_id, contact_id);

CREATE TABLE @extschema@.exchange_rates (
	currency pg_catalog.bpchar(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
	valid_from pg_catalog.date NOT NULL,
	rate pg_catalog.numeric NOT NULL CHECK (rate > 0 AND rate <> 'NaN' AND rate <> 'Infinity'),
	PRIMARY KEY (currency, valid_from)
);
COMMENT ON TABLE @extschema@.exchange_rates IS 'Dated exchange rates: one unit of currency is worth rate units of the reporting currency from valid_from on.';
COMMENT ON COLUMN @extschema@.exchange_rates.currency IS 'ISO 4217 code converted from.';
COMMENT ON COLUMN @extschema@.exchange_rates.valid_from IS 'First day the rate applies (UTC date).';
COMMENT ON COLUMN @extschema@.exchange_rates.rate IS 'Units of the reporting currency per unit of currency.';

-- ------------------------------------------------------------------
-- Settings: one optional row; absent values take their defaults.
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.settings (
	singleton pg_catalog.bool PRIMARY KEY DEFAULT true CHECK (singleton),
	contact_scope pg_catalog.text NOT NULL DEFAULT 'account'
		CHECK (contact_scope IN ('account', 'contact_roles', 'primary_contact')),
	lookback pg_catalog.interval DEFAULT '365 days'
		CHECK (lookback IS NULL OR lookback >= '0'::pg_catalog.interval),
	as_of pg_catalog.timestamptz CHECK (as_of IS NULL OR pg_catalog.isfinite(as_of)),
	reporting_currency pg_catalog.bpchar(3) NOT NULL DEFAULT 'USD'
		CHECK (reporting_currency ~ '^[A-Z]{3}$'),
	cold_after pg_catalog.int4 NOT NULL DEFAULT 60 CHECK (cold_after > 0),
	revival_window pg_catalog.int4 NOT NULL DEFAULT 90 CHECK (revival_window > 0),
	direct_channels pg_catalog.text[] NOT NULL DEFAULT '{direct}'
		CHECK (pg_catalog.array_position(direct_channels, NULL) IS NULL)
);
COMMENT ON TABLE @extschema@.settings IS 'attrib''s settings: at most one row; without one every setting has its default. Change with attrib.set_setting() or UPDATE.';
COMMENT ON COLUMN @extschema@.settings.singleton IS 'Always true: the table holds at most one row.';
COMMENT ON COLUMN @extschema@.settings.contact_scope IS 'Whose touches make an opportunity''s journey: account (every contact of the account plus account-level touches), contact_roles (contacts with a role on the opportunity) or primary_contact.';
COMMENT ON COLUMN @extschema@.settings.lookback IS 'How far before the opportunity''s creation touches count (NULL: no limit). Months count 30 days, years 365.25.';
COMMENT ON COLUMN @extschema@.settings.as_of IS 'The "now" of open opportunities (NULL: the time of the refresh).';
COMMENT ON COLUMN @extschema@.settings.reporting_currency IS 'ISO 4217 currency every report converts to.';
COMMENT ON COLUMN @extschema@.settings.cold_after IS 'Days without a touch after which an account is cold (revivals report).';
COMMENT ON COLUMN @extschema@.settings.revival_window IS 'Days after a reviving touch in which an opportunity counts as following it.';
COMMENT ON COLUMN @extschema@.settings.direct_channels IS 'Channels treated as direct by last_non_direct / first_non_direct (compared case-insensitively).';

-- ------------------------------------------------------------------
-- The model registry: built-in models are on unless a row disables them;
-- custom models are rows naming a base model and its options.
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.model_config (
	name pg_catalog.text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
	base_model pg_catalog.text NOT NULL,
	options pg_catalog.jsonb NOT NULL DEFAULT '{}',
	enabled pg_catalog.bool NOT NULL DEFAULT true
);
COMMENT ON TABLE @extschema@.model_config IS 'User model registry: a row named like a built-in model overrides it (e.g. disables it); other rows add models (a base model with options). Validated when written.';
COMMENT ON COLUMN @extschema@.model_config.name IS 'Model name used in reports (lower case identifier).';
COMMENT ON COLUMN @extschema@.model_config.base_model IS 'A model of attrib.models(), e.g. w_shaped or time_decay.';
COMMENT ON COLUMN @extschema@.model_config.options IS 'Options of the base model, e.g. {"half_life": 30}.';
COMMENT ON COLUMN @extschema@.model_config.enabled IS 'Whether reports compute the model.';

CREATE FUNCTION @extschema@.check_model(base_model pg_catalog.text, options pg_catalog.jsonb)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'attrib_check_model'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.check_model(pg_catalog.text, pg_catalog.jsonb) IS
'True when the model exists and takes the options; otherwise raises the error credits() would raise.';

CREATE FUNCTION @extschema@.model_config_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	k pg_catalog.text;
BEGIN
	IF NEW.base_model NOT IN (SELECT m.name FROM @extschema@.models() m)
	   AND NEW.base_model NOT IN ('markov', 'shapley') THEN
		RAISE EXCEPTION 'unknown base model "%" for model "%"', NEW.base_model, NEW.name
			USING ERRCODE = 'undefined_object',
				  HINT = 'SELECT name FROM attrib.models() lists the base models; markov and shapley are the data-driven ones.';
	END IF;
	IF (NEW.name IN (SELECT m.name FROM @extschema@.models() m) OR NEW.name IN ('markov', 'shapley'))
	   AND NEW.base_model <> NEW.name THEN
		RAISE EXCEPTION 'model "%" is built in and can only be based on itself', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give your variant its own name, e.g. ' || NEW.name || '_custom.';
	END IF;
	IF NEW.base_model IN ('markov', 'shapley') THEN
		-- data-driven models: order (markov, 1..4) and the journey preparation options
		IF pg_catalog.jsonb_typeof(NEW.options) <> 'object' THEN
			RAISE EXCEPTION 'model options must be a JSON object'
				USING ERRCODE = 'invalid_parameter_value', HINT = 'For example {"order": 2}.';
		END IF;
		FOR k IN SELECT pg_catalog.jsonb_object_keys(NEW.options) LOOP
			IF k NOT IN ('exclude_channels', 'collapse_repeats')
			   AND NOT (k = 'order' AND NEW.base_model = 'markov') THEN
				RAISE EXCEPTION 'unknown option "%" for base model "%"', k, NEW.base_model
					USING ERRCODE = 'invalid_parameter_value',
						  HINT = CASE NEW.base_model WHEN 'markov' THEN 'markov takes order, exclude_channels and collapse_repeats.'
								 ELSE 'shapley takes exclude_channels and collapse_repeats.' END;
			END IF;
		END LOOP;
		IF NEW.options ? 'order' AND (pg_catalog.jsonb_typeof(NEW.options -> 'order') <> 'number'
			OR (NEW.options ->> 'order')::pg_catalog.numeric NOT IN (1, 2, 3, 4)) THEN
			RAISE EXCEPTION 'invalid Markov order %', NEW.options -> 'order'
				USING ERRCODE = 'invalid_parameter_value', HINT = 'The order is 1, 2, 3 or 4.';
		END IF;
		PERFORM @extschema@.check_model('linear', NEW.options - 'order');
	ELSE
		PERFORM @extschema@.check_model(NEW.base_model, NEW.options);
	END IF;
	RETURN NEW;
END $$;
COMMENT ON FUNCTION @extschema@.model_config_check() IS 'Trigger: rejects unknown base models and invalid options when a model is registered.';

CREATE TRIGGER model_config_check BEFORE INSERT OR UPDATE ON @extschema@.model_config
	FOR EACH ROW EXECUTE FUNCTION @extschema@.model_config_check();

CREATE VIEW @extschema@.model_registry WITH (security_invoker = true) AS
WITH catalog AS (
	SELECT m.name, m.additive, false AS data_driven FROM @extschema@.models() m
	UNION ALL
	VALUES ('markov', true, true), ('shapley', true, true)
)
SELECT b.name, b.name AS base_model, coalesce(c.options, '{}'::pg_catalog.jsonb) AS options,
	   coalesce(c.enabled, b.name <> 'custom' AND NOT b.data_driven) AS enabled, true AS builtin,
	   b.additive AND coalesce((c.options ->> 'normalize')::pg_catalog.bool, true) AS additive,
	   b.data_driven
FROM catalog b
LEFT JOIN @extschema@.model_config c ON c.name = b.name
UNION ALL
SELECT c.name, c.base_model, c.options, c.enabled, false,
	   b.additive AND coalesce((c.options ->> 'normalize')::pg_catalog.bool, true),
	   b.data_driven
FROM @extschema@.model_config c
JOIN catalog b ON b.name = c.base_model
WHERE c.name NOT IN (SELECT x.name FROM catalog x);
COMMENT ON VIEW @extschema@.model_registry IS 'Every model reports can compute: the built-ins (enabled by default except the bare custom model and the data-driven markov and shapley, which are enabled by a model_config row) and the registered ones.';
COMMENT ON COLUMN @extschema@.model_registry.name IS 'Model name as reports show it.';
COMMENT ON COLUMN @extschema@.model_registry.base_model IS 'The engine model it runs.';
COMMENT ON COLUMN @extschema@.model_registry.options IS 'Options passed to the engine.';
COMMENT ON COLUMN @extschema@.model_registry.enabled IS 'Whether refresh computes it.';
COMMENT ON COLUMN @extschema@.model_registry.builtin IS 'True for a built-in model.';
COMMENT ON COLUMN @extschema@.model_registry.additive IS 'False for influence (and raw time decay): never summed into totals.';
COMMENT ON COLUMN @extschema@.model_registry.data_driven IS 'True for markov and shapley: fitted over every stored journey by each refresh.';

CREATE VIEW @extschema@.effective_settings WITH (security_invoker = true) AS
SELECT coalesce(s.contact_scope, 'account') AS contact_scope,
	   CASE WHEN s.singleton IS NULL THEN '365 days'::pg_catalog.interval ELSE s.lookback END AS lookback,
	   s.as_of,
	   coalesce(s.reporting_currency, 'USD') AS reporting_currency,
	   coalesce(s.cold_after, 60) AS cold_after,
	   coalesce(s.revival_window, 90) AS revival_window,
	   coalesce(s.direct_channels, '{direct}') AS direct_channels
FROM (SELECT true AS k) one
LEFT JOIN @extschema@.settings s ON s.singleton;
COMMENT ON VIEW @extschema@.effective_settings IS 'The settings in force: the settings row, or the defaults.';
COMMENT ON COLUMN @extschema@.effective_settings.contact_scope IS 'account, contact_roles or primary_contact.';
COMMENT ON COLUMN @extschema@.effective_settings.lookback IS 'Lookback before opportunity creation (NULL: none).';
COMMENT ON COLUMN @extschema@.effective_settings.as_of IS 'As-of time for open opportunities (NULL: refresh time).';
COMMENT ON COLUMN @extschema@.effective_settings.reporting_currency IS 'Reporting currency.';
COMMENT ON COLUMN @extschema@.effective_settings.cold_after IS 'Days of silence that make an account cold.';
COMMENT ON COLUMN @extschema@.effective_settings.revival_window IS 'Days after a revival in which an opportunity counts.';
COMMENT ON COLUMN @extschema@.effective_settings.direct_channels IS 'Channels treated as direct.';

CREATE FUNCTION @extschema@.set_setting(name pg_catalog.text, value pg_catalog.text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF name NOT IN ('contact_scope', 'lookback', 'as_of', 'reporting_currency', 'cold_after',
					'revival_window', 'direct_channels') THEN
		RAISE EXCEPTION 'unknown setting "%"', name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Settings: contact_scope, lookback, as_of, reporting_currency, cold_after, revival_window, direct_channels.';
	END IF;
	INSERT INTO @extschema@.settings (singleton) VALUES (true) ON CONFLICT (singleton) DO NOTHING;
	EXECUTE format('UPDATE @extschema@.settings SET %I = $1::%s WHERE singleton', name,
		CASE name WHEN 'lookback' THEN 'interval' WHEN 'as_of' THEN 'timestamptz'
				  WHEN 'cold_after' THEN 'int4' WHEN 'revival_window' THEN 'int4'
				  WHEN 'direct_channels' THEN 'text[]' WHEN 'reporting_currency' THEN 'bpchar'
				  ELSE 'text' END)
		USING value;
END $$;
COMMENT ON FUNCTION @extschema@.set_setting(pg_catalog.text, pg_catalog.text) IS
'Sets one setting by name from its text form, e.g. attrib.set_setting(''lookback'', ''180 days''); invalid values are rejected.';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.channels', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.campaigns', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.contacts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.opportunities', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.opportunity_contact_roles', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.stage_events', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.touches', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.exchange_rates', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.settings', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.model_config', '');

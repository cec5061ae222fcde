--
-- PostgreSQL database dump
--

\restrict dbautopsyKitchenSinkFixture

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: inventory; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA inventory;


ALTER SCHEMA inventory OWNER TO postgres;

--
-- Name: SCHEMA inventory; Type: COMMENT; Schema: -; Owner: postgres
--

COMMENT ON SCHEMA inventory IS 'Warehouses, stock items and stock movements';


--
-- Name: btree_gist; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;


--
-- Name: EXTENSION btree_gist; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION btree_gist IS 'support for indexing common datatypes in GiST';


--
-- Name: citext; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;


--
-- Name: EXTENSION citext; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION citext IS 'data type for case-insensitive character strings';


--
-- Name: file_fdw; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS file_fdw WITH SCHEMA public;


--
-- Name: EXTENSION file_fdw; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION file_fdw IS 'foreign-data wrapper for flat file access';


--
-- Name: hstore; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA inventory;


--
-- Name: EXTENSION hstore; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION hstore IS 'data type for storing sets of (key, value) pairs';


--
-- Name: pg_trgm; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;


--
-- Name: EXTENSION pg_trgm; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';


--
-- Name: dimensions; Type: TYPE; Schema: inventory; Owner: postgres
--

CREATE TYPE inventory.dimensions AS (
	length_mm integer,
	width_mm integer,
	height_mm integer
);


ALTER TYPE inventory.dimensions OWNER TO postgres;

--
-- Name: email_address; Type: DOMAIN; Schema: public; Owner: postgres
--

CREATE DOMAIN public.email_address AS public.citext
	CONSTRAINT email_address_format CHECK ((VALUE OPERATOR(public.~) '^[^@[:space:]]+@[^@[:space:]]+$'::public.citext));


ALTER DOMAIN public.email_address OWNER TO postgres;

--
-- Name: money_amount; Type: DOMAIN; Schema: public; Owner: postgres
--

CREATE DOMAIN public.money_amount AS numeric(12,2)
	CONSTRAINT money_amount_check CHECK ((VALUE >= (0)::numeric));


ALTER DOMAIN public.money_amount OWNER TO postgres;

--
-- Name: order_status; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.order_status AS ENUM (
    'pending',
    'paid',
    'shipped',
    'cancelled',
    'refunded'
);


ALTER TYPE public.order_status OWNER TO postgres;

--
-- Name: volume_mm3(inventory.dimensions); Type: FUNCTION; Schema: inventory; Owner: postgres
--

CREATE FUNCTION inventory.volume_mm3(d inventory.dimensions) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $_$SELECT ($1).length_mm::bigint * ($1).width_mm * ($1).height_mm$_$;


ALTER FUNCTION inventory.volume_mm3(d inventory.dimensions) OWNER TO postgres;

--
-- Name: touch_updated_at(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;


ALTER FUNCTION public.touch_updated_at() OWNER TO postgres;

--
-- Name: supplier_files; Type: SERVER; Schema: -; Owner: postgres
--

CREATE SERVER supplier_files FOREIGN DATA WRAPPER file_fdw;


ALTER SERVER supplier_files OWNER TO postgres;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: Lagerplätze; Type: TABLE; Schema: inventory; Owner: postgres
--

CREATE TABLE inventory."Lagerplätze" (
    "Regal" character varying(10) NOT NULL,
    "Fach" smallint NOT NULL,
    warehouse_id smallint NOT NULL
);


ALTER TABLE inventory."Lagerplätze" OWNER TO postgres;

--
-- Name: batch_code_seq; Type: SEQUENCE; Schema: inventory; Owner: postgres
--

CREATE SEQUENCE inventory.batch_code_seq
    AS integer
    START WITH 500
    INCREMENT BY -1
    MINVALUE 1
    MAXVALUE 500
    CACHE 1
    CYCLE;


ALTER TABLE inventory.batch_code_seq OWNER TO postgres;

--
-- Name: dock_bookings; Type: TABLE; Schema: inventory; Owner: postgres
--

CREATE TABLE inventory.dock_bookings (
    id integer NOT NULL,
    warehouse_id smallint NOT NULL,
    dock integer NOT NULL,
    during tstzrange NOT NULL,
    carrier text
);


ALTER TABLE inventory.dock_bookings OWNER TO postgres;

--
-- Name: dock_bookings_id_seq; Type: SEQUENCE; Schema: inventory; Owner: postgres
--

ALTER TABLE inventory.dock_bookings ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME inventory.dock_bookings_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: stock_items; Type: TABLE; Schema: inventory; Owner: postgres
--

CREATE TABLE inventory.stock_items (
    id bigint NOT NULL,
    warehouse_id smallint NOT NULL,
    sku character varying(40) NOT NULL,
    description text,
    size inventory.dimensions,
    flags bit varying(16) DEFAULT ('0'::"bit")::bit varying,
    shelf_life interval day to second,
    unit_weight_g numeric(10,3),
    legacy_no integer,
    batch_code integer DEFAULT nextval('inventory.batch_code_seq'::regclass)
);


ALTER TABLE inventory.stock_items OWNER TO postgres;

--
-- Name: stock_movements; Type: TABLE; Schema: inventory; Owner: postgres
--

CREATE TABLE inventory.stock_movements (
    id bigint NOT NULL,
    movement_kind text NOT NULL,
    stock_item_id bigint NOT NULL,
    warehouse_id smallint NOT NULL,
    quantity integer NOT NULL,
    moved_at timestamp with time zone NOT NULL,
    reference character varying(24),
    CONSTRAINT stock_movements_quantity_check CHECK ((quantity <> 0))
)
PARTITION BY LIST (movement_kind);


ALTER TABLE inventory.stock_movements OWNER TO postgres;

--
-- Name: low_stock; Type: VIEW; Schema: inventory; Owner: postgres
--

CREATE VIEW inventory.low_stock AS
 SELECT s.id,
    s.sku,
    sum(m.quantity) AS on_hand
   FROM (inventory.stock_items s
     JOIN inventory.stock_movements m ON ((m.stock_item_id = s.id)))
  GROUP BY s.id, s.sku
 HAVING (sum(m.quantity) < 50);


ALTER TABLE inventory.low_stock OWNER TO postgres;

--
-- Name: monthly_movements; Type: MATERIALIZED VIEW; Schema: inventory; Owner: postgres
--

CREATE MATERIALIZED VIEW inventory.monthly_movements AS
 SELECT date_trunc('month'::text, stock_movements.moved_at) AS month,
    stock_movements.movement_kind,
    sum(stock_movements.quantity) AS quantity
   FROM inventory.stock_movements
  GROUP BY (date_trunc('month'::text, stock_movements.moved_at)), stock_movements.movement_kind
  WITH NO DATA;


ALTER TABLE inventory.monthly_movements OWNER TO postgres;

--
-- Name: stock_items_id_seq; Type: SEQUENCE; Schema: inventory; Owner: postgres
--

CREATE SEQUENCE inventory.stock_items_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE inventory.stock_items_id_seq OWNER TO postgres;

--
-- Name: stock_items_id_seq; Type: SEQUENCE OWNED BY; Schema: inventory; Owner: postgres
--

ALTER SEQUENCE inventory.stock_items_id_seq OWNED BY inventory.stock_items.id;


--
-- Name: stock_items_legacy_no_seq; Type: SEQUENCE; Schema: inventory; Owner: postgres
--

CREATE SEQUENCE inventory.stock_items_legacy_no_seq
    AS integer
    START WITH 9000
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE inventory.stock_items_legacy_no_seq OWNER TO postgres;

--
-- Name: stock_items_legacy_no_seq; Type: SEQUENCE OWNED BY; Schema: inventory; Owner: postgres
--

ALTER SEQUENCE inventory.stock_items_legacy_no_seq OWNED BY inventory.stock_items.legacy_no;


--
-- Name: stock_movements_id_seq; Type: SEQUENCE; Schema: inventory; Owner: postgres
--

ALTER TABLE inventory.stock_movements ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME inventory.stock_movements_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: stock_movements_in; Type: TABLE; Schema: inventory; Owner: postgres
--

CREATE TABLE inventory.stock_movements_in (
    id bigint NOT NULL,
    movement_kind text NOT NULL,
    stock_item_id bigint NOT NULL,
    warehouse_id smallint NOT NULL,
    quantity integer NOT NULL,
    moved_at timestamp with time zone NOT NULL,
    reference character varying(24),
    CONSTRAINT stock_movements_quantity_check CHECK ((quantity <> 0))
);


ALTER TABLE inventory.stock_movements_in OWNER TO postgres;

--
-- Name: stock_movements_other; Type: TABLE; Schema: inventory; Owner: postgres
--

CREATE TABLE inventory.stock_movements_other (
    id bigint NOT NULL,
    movement_kind text NOT NULL,
    stock_item_id bigint NOT NULL,
    warehouse_id smallint NOT NULL,
    quantity integer NOT NULL,
    moved_at timestamp with time zone NOT NULL,
    reference character varying(24),
    CONSTRAINT stock_movements_quantity_check CHECK ((quantity <> 0))
);


ALTER TABLE inventory.stock_movements_other OWNER TO postgres;

--
-- Name: stock_movements_out; Type: TABLE; Schema: inventory; Owner: postgres
--

CREATE TABLE inventory.stock_movements_out (
    id bigint NOT NULL,
    movement_kind text NOT NULL,
    stock_item_id bigint NOT NULL,
    warehouse_id smallint NOT NULL,
    quantity integer NOT NULL,
    moved_at timestamp with time zone NOT NULL,
    reference character varying(24),
    CONSTRAINT stock_movements_quantity_check CHECK ((quantity <> 0))
);


ALTER TABLE inventory.stock_movements_out OWNER TO postgres;

--
-- Name: supplier_feed; Type: FOREIGN TABLE; Schema: inventory; Owner: postgres
--

CREATE FOREIGN TABLE inventory.supplier_feed (
    supplier_code character varying(16) NOT NULL,
    sku character varying(40),
    price numeric(10,2),
    delivered_on date
)
SERVER supplier_files
OPTIONS (
    filename '/dev/null',
    format 'csv',
    header 'true'
);


ALTER FOREIGN TABLE inventory.supplier_feed OWNER TO postgres;

--
-- Name: FOREIGN TABLE supplier_feed; Type: COMMENT; Schema: inventory; Owner: postgres
--

COMMENT ON FOREIGN TABLE inventory.supplier_feed IS 'Nightly CSV from suppliers';


--
-- Name: warehouses; Type: TABLE; Schema: inventory; Owner: postgres
--

CREATE TABLE inventory.warehouses (
    id smallint NOT NULL,
    code character varying(8) NOT NULL,
    name text NOT NULL,
    opens_at time with time zone,
    dock_numbers integer[] DEFAULT ARRAY[1, 2],
    floor_area_m2 numeric(9,0),
    attributes inventory.hstore
);


ALTER TABLE inventory.warehouses OWNER TO postgres;

--
-- Name: TABLE warehouses; Type: COMMENT; Schema: inventory; Owner: postgres
--

COMMENT ON TABLE inventory.warehouses IS 'Physical sites';


--
-- Name: warehouses_id_seq; Type: SEQUENCE; Schema: inventory; Owner: postgres
--

CREATE SEQUENCE inventory.warehouses_id_seq
    AS smallint
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE inventory.warehouses_id_seq OWNER TO postgres;

--
-- Name: warehouses_id_seq; Type: SEQUENCE OWNED BY; Schema: inventory; Owner: postgres
--

ALTER SEQUENCE inventory.warehouses_id_seq OWNED BY inventory.warehouses.id;


--
-- Name: Order Notes; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public."Order Notes" (
    "NoteId" integer NOT NULL,
    "order id" bigint,
    "Größe" character varying(20),
    note text,
    written_at time with time zone DEFAULT CURRENT_TIME,
    "isInternal" boolean DEFAULT false NOT NULL
);


ALTER TABLE public."Order Notes" OWNER TO postgres;

--
-- Name: COLUMN "Order Notes"."Größe"; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public."Order Notes"."Größe" IS 'Package size as written by the clerk';


--
-- Name: Order Notes_NoteId_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

CREATE SEQUENCE public."Order Notes_NoteId_seq"
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public."Order Notes_NoteId_seq" OWNER TO postgres;

--
-- Name: Order Notes_NoteId_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: postgres
--

ALTER SEQUENCE public."Order Notes_NoteId_seq" OWNED BY public."Order Notes"."NoteId";


--
-- Name: contacts; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.contacts (
    id bigint NOT NULL,
    name text NOT NULL,
    email public.email_address,
    phone character varying(32),
    CONSTRAINT contacts_name_check CHECK ((char_length(name) > 0)),
    CONSTRAINT contacts_reachable CHECK (((email IS NOT NULL) OR (phone IS NOT NULL)))
);


ALTER TABLE public.contacts OWNER TO postgres;

--
-- Name: contacts_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

CREATE SEQUENCE public.contacts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.contacts_id_seq OWNER TO postgres;

--
-- Name: contacts_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: postgres
--

ALTER SEQUENCE public.contacts_id_seq OWNED BY public.contacts.id;


--
-- Name: customers; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.customers (
    id bigint NOT NULL,
    email public.email_address NOT NULL,
    full_name character varying(200) NOT NULL,
    country_code character(2) DEFAULT 'DE'::bpchar NOT NULL,
    signup_ip inet,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    preferences jsonb DEFAULT '{}'::jsonb NOT NULL,
    external_ref uuid DEFAULT gen_random_uuid() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp(3) without time zone,
    loyalty_points integer DEFAULT 0 NOT NULL,
    credit_limit public.money_amount DEFAULT 500.00,
    "CustomerRef" character varying(32),
    CONSTRAINT customers_loyalty_points_check CHECK ((loyalty_points >= 0))
);


ALTER TABLE public.customers OWNER TO postgres;

--
-- Name: TABLE customers; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.customers IS 'People who order; one row per account';


--
-- Name: COLUMN customers.email; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.customers.email IS 'Login, case-insensitive';


--
-- Name: invoice_number_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

CREATE SEQUENCE public.invoice_number_seq
    START WITH 100000
    INCREMENT BY 7
    MINVALUE 100000
    MAXVALUE 999999999
    CACHE 10
    CYCLE;


ALTER TABLE public.invoice_number_seq OWNER TO postgres;

--
-- Name: orders; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.orders (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    ordered_at timestamp with time zone DEFAULT now() NOT NULL,
    status public.order_status DEFAULT 'pending'::public.order_status NOT NULL,
    total numeric(12,2) DEFAULT 0 NOT NULL,
    invoice_no bigint DEFAULT nextval('public.invoice_number_seq'::regclass),
    CONSTRAINT orders_total_check CHECK ((total >= (0)::numeric))
)
PARTITION BY RANGE (ordered_at);


ALTER TABLE public.orders OWNER TO postgres;

--
-- Name: TABLE orders; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.orders IS 'Orders, one partition per year';


--
-- Name: customer_order_totals; Type: VIEW; Schema: public; Owner: postgres
--

CREATE VIEW public.customer_order_totals AS
 SELECT c.id AS customer_id,
    c.full_name,
    count(o.id) AS orders,
    COALESCE(sum(o.total), (0)::numeric) AS spent
   FROM (public.customers c
     LEFT JOIN public.orders o ON ((o.customer_id = c.id)))
  GROUP BY c.id, c.full_name;


ALTER TABLE public.customer_order_totals OWNER TO postgres;

--
-- Name: customers_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

ALTER TABLE public.customers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.customers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: order_lines; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.order_lines (
    order_id bigint NOT NULL,
    order_ordered_at timestamp with time zone NOT NULL,
    line_no smallint NOT NULL,
    stock_item_id bigint,
    quantity integer NOT NULL,
    unit_price numeric(10,2) NOT NULL,
    discount_pct numeric(5,0) DEFAULT 0,
    line_total numeric(14,2) GENERATED ALWAYS AS (((quantity)::numeric * unit_price)) STORED,
    CONSTRAINT order_lines_check CHECK ((((quantity)::numeric * unit_price) < (1000000)::numeric)),
    CONSTRAINT order_lines_check1 CHECK (((discount_pct < (100)::numeric) OR (unit_price = (0)::numeric))),
    CONSTRAINT order_lines_discount_range CHECK (((discount_pct >= (0)::numeric) AND (discount_pct <= (90)::numeric))),
    CONSTRAINT order_lines_quantity_check CHECK ((quantity > 0)),
    CONSTRAINT order_lines_quantity_check1 CHECK ((quantity <= 10000))
);


ALTER TABLE public.order_lines OWNER TO postgres;

--
-- Name: orders_2024; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.orders_2024 (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    ordered_at timestamp with time zone DEFAULT now() NOT NULL,
    status public.order_status DEFAULT 'pending'::public.order_status NOT NULL,
    total numeric(12,2) DEFAULT 0 NOT NULL,
    invoice_no bigint DEFAULT nextval('public.invoice_number_seq'::regclass),
    CONSTRAINT orders_total_check CHECK ((total >= (0)::numeric))
);


ALTER TABLE public.orders_2024 OWNER TO postgres;

--
-- Name: orders_2025; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.orders_2025 (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    ordered_at timestamp with time zone DEFAULT now() NOT NULL,
    status public.order_status DEFAULT 'pending'::public.order_status NOT NULL,
    total numeric(12,2) DEFAULT 0 NOT NULL,
    invoice_no bigint DEFAULT NULL,
    CONSTRAINT orders_total_check CHECK ((total >= (0)::numeric))
);


ALTER TABLE public.orders_2025 OWNER TO postgres;

--
-- Name: orders_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

ALTER TABLE public.orders ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.orders_id_seq
    START WITH 1000
    INCREMENT BY 10
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: orders_older; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.orders_older (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    ordered_at timestamp with time zone DEFAULT now() NOT NULL,
    status public.order_status DEFAULT 'pending'::public.order_status NOT NULL,
    total numeric(12,2) DEFAULT 0 NOT NULL,
    invoice_no bigint DEFAULT nextval('public.invoice_number_seq'::regclass),
    CONSTRAINT orders_total_check CHECK ((total >= (0)::numeric))
);


ALTER TABLE public.orders_older OWNER TO postgres;

--
-- Name: refunds; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.refunds (
    id integer NOT NULL,
    order_id bigint NOT NULL,
    order_ordered_at timestamp with time zone NOT NULL,
    amount numeric(12,2) NOT NULL,
    reason text,
    processing_window interval day to second(0),
    CONSTRAINT refunds_amount_check CHECK ((amount > (0)::numeric))
);


ALTER TABLE public.refunds OWNER TO postgres;

--
-- Name: refunds_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

CREATE SEQUENCE public.refunds_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.refunds_id_seq OWNER TO postgres;

--
-- Name: refunds_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: postgres
--

ALTER SEQUENCE public.refunds_id_seq OWNED BY public.refunds.id;


--
-- Name: session_cache; Type: TABLE; Schema: public; Owner: postgres
--

CREATE UNLOGGED TABLE public.session_cache (
    session_key character(64) NOT NULL,
    customer_id bigint,
    payload bytea,
    expires_at timestamp with time zone DEFAULT (now() + '00:30:00'::interval) NOT NULL
);


ALTER TABLE public.session_cache OWNER TO postgres;

--
-- Name: supplier_contacts; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.supplier_contacts (
    supplier_company text NOT NULL,
    CONSTRAINT supplier_contacts_supplier_company_check CHECK ((char_length(supplier_company) <= 200))
)
INHERITS (public.contacts);


ALTER TABLE public.supplier_contacts OWNER TO postgres;

--
-- Name: stock_movements_in; Type: TABLE ATTACH; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_movements ATTACH PARTITION inventory.stock_movements_in FOR VALUES IN ('in');


--
-- Name: stock_movements_other; Type: TABLE ATTACH; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_movements ATTACH PARTITION inventory.stock_movements_other DEFAULT;


--
-- Name: stock_movements_out; Type: TABLE ATTACH; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_movements ATTACH PARTITION inventory.stock_movements_out FOR VALUES IN ('out');


--
-- Name: orders_2024; Type: TABLE ATTACH; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.orders ATTACH PARTITION public.orders_2024 FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');


--
-- Name: orders_2025; Type: TABLE ATTACH; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.orders ATTACH PARTITION public.orders_2025 FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');


--
-- Name: orders_older; Type: TABLE ATTACH; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.orders ATTACH PARTITION public.orders_older FOR VALUES FROM (MINVALUE) TO ('2024-01-01 00:00:00+00');


--
-- Name: stock_items id; Type: DEFAULT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_items ALTER COLUMN id SET DEFAULT nextval('inventory.stock_items_id_seq'::regclass);


--
-- Name: stock_items legacy_no; Type: DEFAULT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_items ALTER COLUMN legacy_no SET DEFAULT nextval('inventory.stock_items_legacy_no_seq'::regclass);


--
-- Name: warehouses id; Type: DEFAULT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.warehouses ALTER COLUMN id SET DEFAULT nextval('inventory.warehouses_id_seq'::regclass);


--
-- Name: Order Notes NoteId; Type: DEFAULT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public."Order Notes" ALTER COLUMN "NoteId" SET DEFAULT nextval('public."Order Notes_NoteId_seq"'::regclass);


--
-- Name: contacts id; Type: DEFAULT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.contacts ALTER COLUMN id SET DEFAULT nextval('public.contacts_id_seq'::regclass);


--
-- Name: refunds id; Type: DEFAULT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.refunds ALTER COLUMN id SET DEFAULT nextval('public.refunds_id_seq'::regclass);


--
-- Name: supplier_contacts id; Type: DEFAULT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.supplier_contacts ALTER COLUMN id SET DEFAULT nextval('public.contacts_id_seq'::regclass);


--
-- Name: Lagerplätze Lagerplätze_pkey; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory."Lagerplätze"
    ADD CONSTRAINT "Lagerplätze_pkey" PRIMARY KEY (warehouse_id, "Regal", "Fach");


--
-- Name: dock_bookings dock_bookings_pkey; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.dock_bookings
    ADD CONSTRAINT dock_bookings_pkey PRIMARY KEY (id);


--
-- Name: dock_bookings dock_bookings_warehouse_id_dock_during_excl; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.dock_bookings
    ADD CONSTRAINT dock_bookings_warehouse_id_dock_during_excl EXCLUDE USING gist (warehouse_id WITH =, dock WITH =, during WITH &&);


--
-- Name: stock_items stock_items_pkey; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_items
    ADD CONSTRAINT stock_items_pkey PRIMARY KEY (id);


--
-- Name: stock_items stock_items_warehouse_id_sku_key; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_items
    ADD CONSTRAINT stock_items_warehouse_id_sku_key UNIQUE (warehouse_id, sku);


--
-- Name: stock_movements stock_movements_pkey; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_movements
    ADD CONSTRAINT stock_movements_pkey PRIMARY KEY (id, movement_kind);


--
-- Name: stock_movements_in stock_movements_in_pkey; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_movements_in
    ADD CONSTRAINT stock_movements_in_pkey PRIMARY KEY (id, movement_kind);


--
-- Name: stock_movements_other stock_movements_other_pkey; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_movements_other
    ADD CONSTRAINT stock_movements_other_pkey PRIMARY KEY (id, movement_kind);


--
-- Name: stock_movements_out stock_movements_out_pkey; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_movements_out
    ADD CONSTRAINT stock_movements_out_pkey PRIMARY KEY (id, movement_kind);


--
-- Name: warehouses warehouses_code_key; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.warehouses
    ADD CONSTRAINT warehouses_code_key UNIQUE (code);


--
-- Name: warehouses warehouses_pkey; Type: CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.warehouses
    ADD CONSTRAINT warehouses_pkey PRIMARY KEY (id);


--
-- Name: Order Notes Order Notes_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public."Order Notes"
    ADD CONSTRAINT "Order Notes_pkey" PRIMARY KEY ("NoteId");


--
-- Name: contacts contacts_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (id);


--
-- Name: customers customers_CustomerRef_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT "customers_CustomerRef_key" UNIQUE ("CustomerRef");


--
-- Name: customers customers_email_key1; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_email_key1 UNIQUE (email);


--
-- Name: customers customers_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);


--
-- Name: order_lines order_lines_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.order_lines
    ADD CONSTRAINT order_lines_pkey PRIMARY KEY (order_id, order_ordered_at, line_no);


--
-- Name: orders orders_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id, ordered_at);


--
-- Name: orders_2024 orders_2024_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.orders_2024
    ADD CONSTRAINT orders_2024_pkey PRIMARY KEY (id, ordered_at);


--
-- Name: orders_2025 orders_2025_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.orders_2025
    ADD CONSTRAINT orders_2025_pkey PRIMARY KEY (id, ordered_at);


--
-- Name: orders_older orders_older_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.orders_older
    ADD CONSTRAINT orders_older_pkey PRIMARY KEY (id, ordered_at);


--
-- Name: refunds refunds_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.refunds
    ADD CONSTRAINT refunds_pkey PRIMARY KEY (id);


--
-- Name: session_cache session_cache_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.session_cache
    ADD CONSTRAINT session_cache_pkey PRIMARY KEY (session_key);


--
-- Name: monthly_movements_month_kind_idx; Type: INDEX; Schema: inventory; Owner: postgres
--

CREATE UNIQUE INDEX monthly_movements_month_kind_idx ON inventory.monthly_movements USING btree (month, movement_kind);


--
-- Name: stock_items_lower_warehouse_id_idx; Type: INDEX; Schema: inventory; Owner: postgres
--

CREATE INDEX stock_items_lower_warehouse_id_idx ON inventory.stock_items USING btree (lower((sku)::text), warehouse_id);


--
-- Name: stock_items_sku_hash_idx; Type: INDEX; Schema: inventory; Owner: postgres
--

CREATE INDEX stock_items_sku_hash_idx ON inventory.stock_items USING hash (sku);


--
-- Name: stock_movements_moved_at_brin; Type: INDEX; Schema: inventory; Owner: postgres
--

CREATE INDEX stock_movements_moved_at_brin ON ONLY inventory.stock_movements USING brin (moved_at);


--
-- Name: stock_movements_in_moved_at_idx; Type: INDEX; Schema: inventory; Owner: postgres
--

CREATE INDEX stock_movements_in_moved_at_idx ON inventory.stock_movements_in USING brin (moved_at);


--
-- Name: stock_movements_other_moved_at_idx; Type: INDEX; Schema: inventory; Owner: postgres
--

CREATE INDEX stock_movements_other_moved_at_idx ON inventory.stock_movements_other USING brin (moved_at);


--
-- Name: stock_movements_out_moved_at_idx; Type: INDEX; Schema: inventory; Owner: postgres
--

CREATE INDEX stock_movements_out_moved_at_idx ON inventory.stock_movements_out USING brin (moved_at);


--
-- Name: Order Notes_order id_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX "Order Notes_order id_idx" ON public."Order Notes" USING btree ("order id");


--
-- Name: customers_country_code_loyalty_points_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX customers_country_code_loyalty_points_idx ON public.customers USING btree (country_code, loyalty_points DESC) WHERE (loyalty_points > 0);


--
-- Name: customers_created_at_full_name_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX customers_created_at_full_name_idx ON public.customers USING btree (created_at DESC NULLS LAST) INCLUDE (full_name);


--
-- Name: customers_email_key; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX customers_email_key ON public.customers USING btree (created_at);


--
-- Name: customers_full_name_trgm_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX customers_full_name_trgm_idx ON public.customers USING gin (full_name public.gin_trgm_ops);


--
-- Name: customers_lower_email_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE UNIQUE INDEX customers_lower_email_idx ON public.customers USING btree (lower((email)::text));


--
-- Name: customers_preferences_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX customers_preferences_idx ON public.customers USING gin (preferences jsonb_path_ops);


--
-- Name: customers_signup_ip_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX customers_signup_ip_idx ON public.customers USING gist (signup_ip inet_ops);


--
-- Name: order_lines_order_id_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX order_lines_order_id_idx ON public.order_lines USING hash (order_id);


--
-- Name: order_lines_stock_item_id_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX order_lines_stock_item_id_idx ON public.order_lines USING btree (stock_item_id);


--
-- Name: order_lines_stock_item_id_idx1; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX order_lines_stock_item_id_idx1 ON public.order_lines USING btree (stock_item_id) WHERE (quantity > 100);


--
-- Name: orders_customer_id_ordered_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX orders_customer_id_ordered_at_idx ON ONLY public.orders USING btree (customer_id, ordered_at);


--
-- Name: orders_2024_customer_id_ordered_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX orders_2024_customer_id_ordered_at_idx ON public.orders_2024 USING btree (customer_id, ordered_at);


--
-- Name: orders_status_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX orders_status_idx ON ONLY public.orders USING btree (status) WHERE (status <> 'cancelled'::public.order_status);


--
-- Name: orders_2024_status_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX orders_2024_status_idx ON public.orders_2024 USING btree (status) WHERE (status <> 'cancelled'::public.order_status);


--
-- Name: orders_2025_customer_id_ordered_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX orders_2025_customer_id_ordered_at_idx ON public.orders_2025 USING btree (customer_id, ordered_at);


--
-- Name: orders_2025_status_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX orders_2025_status_idx ON public.orders_2025 USING btree (status) WHERE (status <> 'cancelled'::public.order_status);


--
-- Name: orders_older_customer_id_ordered_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX orders_older_customer_id_ordered_at_idx ON public.orders_older USING btree (customer_id, ordered_at);


--
-- Name: orders_older_status_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX orders_older_status_idx ON public.orders_older USING btree (status) WHERE (status <> 'cancelled'::public.order_status);


--
-- Name: stock_movements_in_moved_at_idx; Type: INDEX ATTACH; Schema: inventory; Owner: postgres
--

ALTER INDEX inventory.stock_movements_moved_at_brin ATTACH PARTITION inventory.stock_movements_in_moved_at_idx;


--
-- Name: stock_movements_in_pkey; Type: INDEX ATTACH; Schema: inventory; Owner: postgres
--

ALTER INDEX inventory.stock_movements_pkey ATTACH PARTITION inventory.stock_movements_in_pkey;


--
-- Name: stock_movements_other_moved_at_idx; Type: INDEX ATTACH; Schema: inventory; Owner: postgres
--

ALTER INDEX inventory.stock_movements_moved_at_brin ATTACH PARTITION inventory.stock_movements_other_moved_at_idx;


--
-- Name: stock_movements_other_pkey; Type: INDEX ATTACH; Schema: inventory; Owner: postgres
--

ALTER INDEX inventory.stock_movements_pkey ATTACH PARTITION inventory.stock_movements_other_pkey;


--
-- Name: stock_movements_out_moved_at_idx; Type: INDEX ATTACH; Schema: inventory; Owner: postgres
--

ALTER INDEX inventory.stock_movements_moved_at_brin ATTACH PARTITION inventory.stock_movements_out_moved_at_idx;


--
-- Name: stock_movements_out_pkey; Type: INDEX ATTACH; Schema: inventory; Owner: postgres
--

ALTER INDEX inventory.stock_movements_pkey ATTACH PARTITION inventory.stock_movements_out_pkey;


--
-- Name: orders_2024_customer_id_ordered_at_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.orders_customer_id_ordered_at_idx ATTACH PARTITION public.orders_2024_customer_id_ordered_at_idx;


--
-- Name: orders_2024_pkey; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.orders_pkey ATTACH PARTITION public.orders_2024_pkey;


--
-- Name: orders_2024_status_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.orders_status_idx ATTACH PARTITION public.orders_2024_status_idx;


--
-- Name: orders_2025_customer_id_ordered_at_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.orders_customer_id_ordered_at_idx ATTACH PARTITION public.orders_2025_customer_id_ordered_at_idx;


--
-- Name: orders_2025_pkey; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.orders_pkey ATTACH PARTITION public.orders_2025_pkey;


--
-- Name: orders_2025_status_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.orders_status_idx ATTACH PARTITION public.orders_2025_status_idx;


--
-- Name: orders_older_customer_id_ordered_at_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.orders_customer_id_ordered_at_idx ATTACH PARTITION public.orders_older_customer_id_ordered_at_idx;


--
-- Name: orders_older_pkey; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.orders_pkey ATTACH PARTITION public.orders_older_pkey;


--
-- Name: orders_older_status_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.orders_status_idx ATTACH PARTITION public.orders_older_status_idx;


--
-- Name: customers customers_touch_updated_at; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER customers_touch_updated_at BEFORE UPDATE ON public.customers FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();


--
-- Name: dock_bookings dock_bookings_warehouse_id_fkey; Type: FK CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.dock_bookings
    ADD CONSTRAINT dock_bookings_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES inventory.warehouses(id) ON DELETE CASCADE;


--
-- Name: stock_items stock_items_warehouse_id_fkey; Type: FK CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE ONLY inventory.stock_items
    ADD CONSTRAINT stock_items_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES inventory.warehouses(id);


--
-- Name: stock_movements stock_movements_stock_item_id_fkey; Type: FK CONSTRAINT; Schema: inventory; Owner: postgres
--

ALTER TABLE inventory.stock_movements
    ADD CONSTRAINT stock_movements_stock_item_id_fkey FOREIGN KEY (stock_item_id) REFERENCES inventory.stock_items(id);


--
-- Name: order_lines order_lines_order_id_order_ordered_at_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.order_lines
    ADD CONSTRAINT order_lines_order_id_order_ordered_at_fkey FOREIGN KEY (order_id, order_ordered_at) REFERENCES public.orders(id, ordered_at) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;


--
-- Name: order_lines order_lines_stock_item_fk; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.order_lines
    ADD CONSTRAINT order_lines_stock_item_fk FOREIGN KEY (stock_item_id) REFERENCES inventory.stock_items(id) NOT VALID;


--
-- Name: orders orders_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE public.orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(id) ON DELETE CASCADE;


--
-- Name: refunds refunds_order_id_order_ordered_at_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.refunds
    ADD CONSTRAINT refunds_order_id_order_ordered_at_fkey FOREIGN KEY (order_id, order_ordered_at) REFERENCES public.orders(id, ordered_at);


--
-- Name: session_cache session_cache_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.session_cache
    ADD CONSTRAINT session_cache_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(id);


--
-- PostgreSQL database dump complete
--

\unrestrict dbautopsyKitchenSinkFixture


--
-- PostgreSQL database dump
--

\restrict dbautopsyParityRestrictKey00000000000000000000000000000000000000


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

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: django_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.django_migrations (
    id integer NOT NULL,
    app character varying(255) NOT NULL,
    name character varying(255) NOT NULL,
    applied timestamp with time zone NOT NULL
);


--
-- Name: django_migrations_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.django_migrations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: django_migrations_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.django_migrations_id_seq OWNED BY public.django_migrations.id;


--
-- Name: inventory_stock; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.inventory_stock (
    id bigint NOT NULL,
    warehouse character varying(20) NOT NULL,
    qty bigint NOT NULL,
    bins character varying(10)[] NOT NULL,
    product_id integer NOT NULL,
    category_id bigint NOT NULL,
    origin_id bigint,
    note character varying(100) NOT NULL,
    CONSTRAINT qty_non_negative CHECK ((qty >= 0))
);


--
-- Name: inventory_stock_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.inventory_stock_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: inventory_stock_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.inventory_stock_id_seq OWNED BY public.inventory_stock.id;


--
-- Name: shop_categories; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.shop_categories (
    id bigint NOT NULL,
    name character varying(100) NOT NULL,
    slug character varying(50) NOT NULL,
    created timestamp with time zone NOT NULL,
    parent_id bigint
);


--
-- Name: shop_categories_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.shop_categories_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: shop_categories_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.shop_categories_id_seq OWNED BY public.shop_categories.id;


--
-- Name: shop_category_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.shop_category_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: shop_category_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.shop_category_id_seq OWNED BY public.shop_categories.id;


--
-- Name: shop_product; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.shop_product (
    id integer NOT NULL,
    sku character varying(64) NOT NULL,
    name text NOT NULL,
    price numeric(10,2) NOT NULL,
    stock integer NOT NULL,
    weight double precision NOT NULL,
    code uuid,
    data jsonb NOT NULL,
    options jsonb NOT NULL,
    rating smallint NOT NULL,
    released date NOT NULL,
    note text NOT NULL,
    motto character varying(40) NOT NULL,
    is_active boolean,
    discount numeric(5,2) NOT NULL,
    ratio numeric(6,3) NOT NULL,
    shelf_life interval NOT NULL,
    legacy_ref integer,
    CONSTRAINT rating_or_note CHECK (((rating = ANY (ARRAY['-1'::integer, 1, 2, 3])) OR (note ~~ 'x%%'::text))),
    CONSTRAINT shop_product_rating_cb49943f_check CHECK ((rating >= 0))
);


--
-- Name: TABLE shop_product; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.shop_product IS 'products (café)';


--
-- Name: shop_product_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.shop_product_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: shop_product_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.shop_product_id_seq OWNED BY public.shop_product.id;


--
-- Name: shop_variant; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.shop_variant (
    id integer NOT NULL,
    label character varying(30) NOT NULL,
    product_id integer NOT NULL,
    kind character varying(10) NOT NULL
);


--
-- Name: shop_variant_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.shop_variant_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: shop_variant_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.shop_variant_id_seq OWNED BY public.shop_variant.id;


--
-- Name: django_migrations id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.django_migrations ALTER COLUMN id SET DEFAULT nextval('public.django_migrations_id_seq'::regclass);


--
-- Name: inventory_stock id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inventory_stock ALTER COLUMN id SET DEFAULT nextval('public.inventory_stock_id_seq'::regclass);


--
-- Name: shop_categories id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_categories ALTER COLUMN id SET DEFAULT nextval('public.shop_categories_id_seq'::regclass);


--
-- Name: shop_product id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_product ALTER COLUMN id SET DEFAULT nextval('public.shop_product_id_seq'::regclass);


--
-- Name: shop_variant id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_variant ALTER COLUMN id SET DEFAULT nextval('public.shop_variant_id_seq'::regclass);


--
-- Name: django_migrations django_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.django_migrations
    ADD CONSTRAINT django_migrations_pkey PRIMARY KEY (id);


--
-- Name: inventory_stock inventory_stock_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inventory_stock
    ADD CONSTRAINT inventory_stock_pkey PRIMARY KEY (id);


--
-- Name: inventory_stock inventory_stock_product_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inventory_stock
    ADD CONSTRAINT inventory_stock_product_id_key UNIQUE (product_id);


--
-- Name: inventory_stock inventory_stock_warehouse_ded438d7_uniq; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inventory_stock
    ADD CONSTRAINT inventory_stock_warehouse_ded438d7_uniq UNIQUE (warehouse);


--
-- Name: shop_categories shop_category_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_categories
    ADD CONSTRAINT shop_category_pkey PRIMARY KEY (id);


--
-- Name: shop_categories shop_category_slug_4508178e_uniq; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_categories
    ADD CONSTRAINT shop_category_slug_4508178e_uniq UNIQUE (slug);


--
-- Name: shop_product shop_product_code_fdb8d8a6_uniq; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_product
    ADD CONSTRAINT shop_product_code_fdb8d8a6_uniq UNIQUE (code);


--
-- Name: shop_product shop_product_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_product
    ADD CONSTRAINT shop_product_pkey PRIMARY KEY (id);


--
-- Name: shop_variant shop_variant_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_variant
    ADD CONSTRAINT shop_variant_pkey PRIMARY KEY (id);


--
-- Name: inventory_s_warehou_8a1b2c_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX inventory_s_warehou_8a1b2c_idx ON public.inventory_stock USING btree (warehouse, qty DESC);


--
-- Name: inventory_stock_category_id_55a07129; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX inventory_stock_category_id_55a07129 ON public.inventory_stock USING btree (category_id);


--
-- Name: inventory_stock_home_id_6082378d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX inventory_stock_home_id_6082378d ON public.inventory_stock USING btree (origin_id);


--
-- Name: inventory_stock_warehouse_ded438d7_like; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX inventory_stock_warehouse_ded438d7_like ON public.inventory_stock USING btree (warehouse varchar_pattern_ops);


--
-- Name: shop_category_name_11b68823; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_category_name_11b68823 ON public.shop_categories USING btree (name);


--
-- Name: shop_category_name_11b68823_like; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_category_name_11b68823_like ON public.shop_categories USING btree (name varchar_pattern_ops);


--
-- Name: shop_category_parent_id_901626c9; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_category_parent_id_901626c9 ON public.shop_categories USING btree (parent_id);


--
-- Name: shop_category_slug_4508178e_like; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_category_slug_4508178e_like ON public.shop_categories USING btree (slug varchar_pattern_ops);


--
-- Name: shop_product_legacy_ref_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_product_legacy_ref_idx ON public.shop_product USING btree (legacy_ref);


--
-- Name: shop_product_sku_20049d15; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_product_sku_20049d15 ON public.shop_product USING btree (sku);


--
-- Name: shop_product_sku_20049d15_like; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_product_sku_20049d15_like ON public.shop_product USING btree (sku varchar_pattern_ops);


--
-- Name: shop_product_title_312cda19; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_product_title_312cda19 ON public.shop_product USING btree (name);


--
-- Name: shop_product_title_312cda19_like; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_product_title_312cda19_like ON public.shop_product USING btree (name text_pattern_ops);


--
-- Name: shop_sku_active_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_sku_active_idx ON public.shop_product USING btree (sku) WHERE is_active;


--
-- Name: shop_variant_kind_c086afa0; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_variant_kind_c086afa0 ON public.shop_variant USING btree (kind);


--
-- Name: shop_variant_kind_c086afa0_like; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_variant_kind_c086afa0_like ON public.shop_variant USING btree (kind varchar_pattern_ops);


--
-- Name: shop_variant_product_id_ab80580a; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shop_variant_product_id_ab80580a ON public.shop_variant USING btree (product_id);


--
-- Name: inventory_stock inventory_stock_origin_id_999dbae0_fk_shop_categories_id; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inventory_stock
    ADD CONSTRAINT inventory_stock_origin_id_999dbae0_fk_shop_categories_id FOREIGN KEY (origin_id) REFERENCES public.shop_categories(id) DEFERRABLE INITIALLY DEFERRED;


--
-- Name: inventory_stock inventory_stock_product_id_b75f69ba_fk_shop_product_id; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inventory_stock
    ADD CONSTRAINT inventory_stock_product_id_b75f69ba_fk_shop_product_id FOREIGN KEY (product_id) REFERENCES public.shop_product(id) DEFERRABLE INITIALLY DEFERRED;


--
-- Name: shop_categories shop_categories_parent_id_7f222d2a_fk; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_categories
    ADD CONSTRAINT shop_categories_parent_id_7f222d2a_fk FOREIGN KEY (parent_id) REFERENCES public.shop_categories(id) DEFERRABLE INITIALLY DEFERRED;


--
-- Name: shop_variant shop_variant_product_id_ab80580a_fk_shop_product_id; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_variant
    ADD CONSTRAINT shop_variant_product_id_ab80580a_fk_shop_product_id FOREIGN KEY (product_id) REFERENCES public.shop_product(id) DEFERRABLE INITIALLY DEFERRED;


--
-- PostgreSQL database dump complete
--

\unrestrict dbautopsyParityRestrictKey00000000000000000000000000000000000000


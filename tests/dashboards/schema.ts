// The shape every dashboard in dashboards/ must have: @grafana/schema's own types (the
// dashboard, and each panel plugin's options and field config) composed into one closed type,
// from which ts-json-schema-generator makes the JSON schema that validate.mjs checks with ajv.
// Everything here is the library's types except the Prometheus query, which @grafana/schema no
// longer ships (it moved into the Prometheus plugin), and the export wrapper (__inputs,
// __requires), which Grafana adds when a dashboard is exported for sharing.
import {
  Dashboard,
  DataSourceRef,
  FieldConfig,
  FieldConfigSource,
  Panel,
  RowPanel,
} from "@grafana/schema/dist/esm/raw/dashboard/x/dashboard_types.gen";
import { DataQuery } from "@grafana/schema/dist/esm/common/common.gen";
import * as TimeSeries from "@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";
import * as Stat from "@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen";
import * as Table from "@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen";
import * as BarGauge from "@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen";

/** A Prometheus query as the Prometheus data source plugin stores it (PromQuery). */
export interface PrometheusQuery extends DataQuery {
  datasource?: DataSourceRef;
  editorMode?: "code" | "builder";
  exemplar?: boolean;
  expr: string;
  format?: "time_series" | "table" | "heatmap";
  instant?: boolean;
  interval?: string;
  intervalFactor?: number;
  legendFormat?: string;
  range?: boolean;
}

type PanelOf<Kind extends string, Options, Custom> = Omit<
  Panel,
  "type" | "options" | "fieldConfig" | "targets" | "datasource"
> & {
  type: Kind;
  datasource: DataSourceRef;
  targets: PrometheusQuery[];
  options: Options;
  fieldConfig: Omit<FieldConfigSource, "defaults"> & {
    defaults: Omit<FieldConfig, "custom"> & { custom?: Custom };
  };
};

export type TimeSeriesPanel = PanelOf<"timeseries", TimeSeries.Options, TimeSeries.FieldConfig>;
export type StatPanel = PanelOf<"stat", Stat.Options, Record<string, never>>;
export type TablePanel = PanelOf<"table", Table.Options, Table.FieldConfig>;
export type BarGaugePanel = PanelOf<"bargauge", BarGauge.Options, Record<string, never>>;

/** A row: @grafana/schema's RowPanel, its folded panels typed like the others. */
export type Row = Omit<RowPanel, "panels"> & { panels: XenballoonPanel[] };

export type XenballoonPanel = TimeSeriesPanel | StatPanel | TablePanel | BarGaugePanel;

/** One entry of an exported dashboard's __inputs: what Grafana asks for on import. */
export interface DashboardInput {
  name: string;
  label: string;
  description: string;
  type: "datasource" | "constant";
  pluginId?: string;
  pluginName?: string;
  value?: string;
}

/** One entry of an exported dashboard's __requires. */
export interface DashboardRequirement {
  type: "grafana" | "datasource" | "panel";
  id: string;
  name: string;
  version: string;
}

/** A dashboard as this project ships it: importable (export format) and provisionable. */
export type XenballoonDashboard = Omit<Dashboard, "panels"> & {
  __inputs: DashboardInput[];
  __requires: DashboardRequirement[];
  panels: (XenballoonPanel | Row)[];
};

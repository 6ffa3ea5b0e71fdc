<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AlarmDock</name>
    <message>
        <source>Alarms</source>
        <translation>告警</translation>
    </message>
</context>
<context>
    <name>AlarmTable</name>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Station</source>
        <translation>测站</translation>
    </message>
    <message>
        <source>Signal</source>
        <translation>预警信号</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Threshold</source>
        <translation>阈值</translation>
    </message>
    <message>
        <source>Lead time</source>
        <translation>预见期</translation>
    </message>
    <message>
        <source>{h} h rain</source>
        <translation>{h} 小时雨量</translation>
    </message>
    <message>
        <source>cleared</source>
        <translation>解除</translation>
    </message>
    <message>
        <source>water level</source>
        <translation>水位</translation>
    </message>
    <message>
        <source>discharge</source>
        <translation>流量</translation>
    </message>
    <message>
        <source>rate of rise</source>
        <translation>涨率</translation>
    </message>
    <message>
        <source>forecast {kind}</source>
        <translation>预报·{kind}</translation>
    </message>
    <message>
        <source>{h:.1f} h</source>
        <translation>{h:.1f} 小时</translation>
    </message>
</context>
<context>
    <name>BasinBuilderDialog</name>
    <message>
        <source>reading and conditioning the DEM</source>
        <translation>读取 DEM 并进行水文处理</translation>
    </message>
    <message>
        <source>snapping the outlet</source>
        <translation>捕捉流域出口</translation>
    </message>
    <message>
        <source>extracting reaches and sub-basins</source>
        <translation>提取河段与子流域</translation>
    </message>
    <message>
        <source>writing the basin folder</source>
        <translation>写入流域文件夹</translation>
    </message>
    <message>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>New basin</source>
        <translation>新建流域</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Add stations by clicking</source>
        <translation>点击添加测站</translation>
    </message>
    <message>
        <source>DEM</source>
        <translation>数字高程模型（DEM）</translation>
    </message>
    <message>
        <source>Basin id</source>
        <translation>流域编号</translation>
    </message>
    <message>
        <source>Chinese name</source>
        <translation>中文名称</translation>
    </message>
    <message>
        <source>English name</source>
        <translation>英文名称</translation>
    </message>
    <message>
        <source>Stations file</source>
        <translation>测站文件</translation>
    </message>
    <message>
        <source>Stream density</source>
        <translation>河网密度</translation>
    </message>
    <message>
        <source>Pick a DEM, then click the outlet on the map.</source>
        <translation>请选择 DEM，然后在地图上点击流域出口。</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Save basin</source>
        <translation>保存流域</translation>
    </message>
    <message>
        <source>Choose a DEM</source>
        <translation>选择 DEM</translation>
    </message>
    <message>
        <source>Choose a stations file</source>
        <translation>选择测站文件</translation>
    </message>
    <message>
        <source>Click the outlet on the map.</source>
        <translation>请在地图上点击流域出口。</translation>
    </message>
    <message>
        <source>rivers from {a} km²</source>
        <translation>集水面积 ≥ {a} km² 成河</translation>
    </message>
    <message>
        <source>Conditioning the DEM…</source>
        <translation>正在进行 DEM 水文处理…</translation>
    </message>
    <message>
        <source>{area:.1f} km², {n} reaches, outlet snapped {snap:.0f} m</source>
        <translation>{area:.1f} km²，{n} 个河段，出口捕捉距离 {snap:.0f} m</translation>
    </message>
    <message>
        <source>Error: {message}</source>
        <translation>错误：{message}</translation>
    </message>
</context>
<context>
    <name>BasinPicker</name>
    <message>
        <source>{name} — broken</source>
        <translation>{name} — 已损坏</translation>
    </message>
</context>
<context>
    <name>BimInspector</name>
    <message>
        <source>BIM inspector</source>
        <translation>BIM 检查器</translation>
    </message>
    <message>
        <source>Search name, class or GlobalId</source>
        <translation>按名称、类别或 GlobalId 搜索</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Set</source>
        <translation>属性集</translation>
    </message>
    <message>
        <source>Property</source>
        <translation>属性</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Isolate</source>
        <translation>隔离显示</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>隐藏</translation>
    </message>
    <message>
        <source>Show all</source>
        <translation>全部显示</translation>
    </message>
    <message>
        <source>Zoom to</source>
        <translation>缩放至</translation>
    </message>
    <message>
        <source>Section</source>
        <translation>剖切</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>测量</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Loading {0} …</source>
        <translation>正在加载 {0} …</translation>
    </message>
    <message>
        <source>Could not load the model: {0}</source>
        <translation>无法加载模型：{0}</translation>
    </message>
    <message>
        <source>Loading cancelled</source>
        <translation>加载已取消</translation>
    </message>
    <message>
        <source>{0}: {1} elements, {2} triangles; {3} products skipped</source>
        <translation>{0}：{1} 个构件，{2} 个三角形；跳过 {3} 个构件</translation>
    </message>
    <message>
        <source>{0}: {1} elements, {2} triangles</source>
        <translation>{0}：{1} 个构件，{2} 个三角形</translation>
    </message>
    <message>
        <source>(unnamed)</source>
        <translation>（未命名）</translation>
    </message>
    <message>
        <source>Not in the spatial structure</source>
        <translation>不在空间结构中</translation>
    </message>
    <message>
        <source>Skipped (not loaded)</source>
        <translation>已跳过（未加载）</translation>
    </message>
    <message>
        <source>Not loaded: the geometry kernel took longer than {0} s on it (GlobalId {1})</source>
        <translation>未加载：几何内核处理该构件超过 {0} 秒（GlobalId {1}）</translation>
    </message>
    <message>
        <source>Not loaded: its body holds curves or points only (GlobalId {0})</source>
        <translation>未加载：其实体表示只有曲线或点（GlobalId {0}）</translation>
    </message>
    <message>
        <source>Not loaded: the geometry kernel failed on it: {0} (GlobalId {1})</source>
        <translation>未加载：几何内核处理失败：{0}（GlobalId {1}）</translation>
    </message>
    <message>
        <source>Not loaded: the geometry kernel failed on it (GlobalId {0})</source>
        <translation>未加载：几何内核处理该构件时失败（GlobalId {0}）</translation>
    </message>
    <message>
        <source>Element</source>
        <translation>构件</translation>
    </message>
    <message>
        <source>Attributes</source>
        <translation>属性</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Measure: click two points</source>
        <translation>测量：点击两个点</translation>
    </message>
    <message>
        <source>Measure: click the second point</source>
        <translation>测量：点击第二个点</translation>
    </message>
    <message>
        <source>Distance: {0:.3f} m</source>
        <translation>距离：{0:.3f} 米</translation>
    </message>
</context>
<context>
    <name>CapacityDock</name>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>over flood limit</source>
        <translation>超汛限</translation>
    </message>
    <message>
        <source>over design flood level</source>
        <translation>超设计洪水位</translation>
    </message>
    <message>
        <source>over check flood level</source>
        <translation>超校核洪水位</translation>
    </message>
    <message>
        <source>flood-limit level</source>
        <translation>汛限水位</translation>
    </message>
    <message>
        <source>design flood level</source>
        <translation>设计洪水位</translation>
    </message>
    <message>
        <source>check flood level</source>
        <translation>校核洪水位</translation>
    </message>
    <message>
        <source>dam crest</source>
        <translation>坝顶</translation>
    </message>
    <message>
        <source>above already</source>
        <translation>已超</translation>
    </message>
    <message>
        <source>cannot reach</source>
        <translation>不可达</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>County</source>
        <translation>县</translation>
    </message>
    <message>
        <source>Level (m)</source>
        <translation>水位（米）</translation>
    </message>
    <message>
        <source>To flood limit (mm)</source>
        <translation>至汛限（毫米）</translation>
    </message>
    <message>
        <source>To design (mm)</source>
        <translation>至设计（毫米）</translation>
    </message>
    <message>
        <source>To check (mm)</source>
        <translation>至校核（毫米）</translation>
    </message>
    <message>
        <source>Forecast (mm)</source>
        <translation>预报（毫米）</translation>
    </message>
    <message>
        <source>Margin (mm)</source>
        <translation>余量（毫米）</translation>
    </message>
    <message>
        <source>Risk</source>
        <translation>风险</translation>
    </message>
    <message>
        <source>Rain-holding capacity</source>
        <translation>纳雨能力</translation>
    </message>
    <message>
        <source>Colour by risk</source>
        <translation>按风险着色</translation>
    </message>
    <message>
        <source>Colour by margin</source>
        <translation>按余量着色</translation>
    </message>
    <message>
        <source>All risks</source>
        <translation>全部风险</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>历时</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>图层</translation>
    </message>
    <message>
        <source>Open a reservoir table (四预 → 纳雨能力…)</source>
        <translation>请打开水库表（四预 → 纳雨能力…）</translation>
    </message>
    <message>
        <source>Duration (h)</source>
        <translation>历时（小时）</translation>
    </message>
    <message>
        <source>Rain (mm)</source>
        <translation>雨量（毫米）</translation>
    </message>
    <message>
        <source>Computing rain-holding capacity…</source>
        <translation>正在计算纳雨能力…</translation>
    </message>
    <message>
        <source>Error: {message}</source>
        <translation>错误：{message}</translation>
    </message>
    <message>
        <source>{n} reservoirs computed, {bad} rows skipped</source>
        <translation>已计算 {n} 座水库，跳过 {bad} 行</translation>
    </message>
    <message>
        <source>{h:g} h</source>
        <translation>{h:g} 小时</translation>
    </message>
    <message>
        <source>All counties</source>
        <translation>全部县</translation>
    </message>
    <message>
        <source>forecast rain</source>
        <translation>预报雨量</translation>
    </message>
    <message>
        <source>level now {z:.2f} m</source>
        <translation>当前水位 {z:.2f} 米</translation>
    </message>
</context>
<context>
    <name>ConnectionDock</name>
    <message>
        <source>Connections</source>
        <translation>连接</translation>
    </message>
</context>
<context>
    <name>ConnectionPanel</name>
    <message>
        <source>Source</source>
        <translation>数据源</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>起始时间</translation>
    </message>
    <message>
        <source>Station</source>
        <translation>测站</translation>
    </message>
    <message>
        <source>Last report</source>
        <translation>最近报送</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>距今</translation>
    </message>
    <message>
        <source>Live sources</source>
        <translation>实时数据源</translation>
    </message>
    <message>
        <source>Stations</source>
        <translation>测站</translation>
    </message>
    <message>
        <source>live</source>
        <translation>在线</translation>
    </message>
    <message>
        <source>down</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>damaged: spooling, see tooltip</source>
        <translation>已损坏：数据暂存于缓冲文件，详见提示</translation>
    </message>
    <message>
        <source>never</source>
        <translation>从未</translation>
    </message>
    <message>
        <source>{m:.0f} min</source>
        <translation>{m:.0f} 分钟</translation>
    </message>
    <message>
        <source>{s:.0f} s</source>
        <translation>{s:.0f} 秒</translation>
    </message>
</context>
<context>
    <name>DutyController</name>
    <message>
        <source>Duty mode</source>
        <translation>值守模式</translation>
    </message>
    <message>
        <source>Duty: {text}</source>
        <translation>值守：{text}</translation>
    </message>
    <message>
        <source>HydroTwin duty</source>
        <translation>HydroTwin 值守</translation>
    </message>
</context>
<context>
    <name>DutyPanel</name>
    <message>
        <source>Last cycle</source>
        <translation>上次滚动</translation>
    </message>
    <message>
        <source>Next cycle</source>
        <translation>下次滚动</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Last push</source>
        <translation>最近推送</translation>
    </message>
    <message>
        <source>Station</source>
        <translation>测站</translation>
    </message>
    <message>
        <source>Last report</source>
        <translation>最近报送</translation>
    </message>
    <message>
        <source>Data freshness</source>
        <translation>数据时效</translation>
    </message>
    <message>
        <source>Failed: {why}</source>
        <translation>失败：{why}</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>{issued}: recommended plan {plan} ({changed})</source>
        <translation>{issued}：推荐方案 {plan}（{changed}）</translation>
    </message>
    <message>
        <source>{issued}: {station} {level} in {lead:.0f} h</source>
        <translation>{issued}：{station} 预见期 {lead:.0f} 小时达 {level}</translation>
    </message>
    <message>
        <source>Cycle {issue} failed: {why}</source>
        <translation>{issue} 滚动预报失败：{why}</translation>
    </message>
</context>
<context>
    <name>EnsembleController</name>
    <message>
        <source>Ensemble</source>
        <translation>集合预报</translation>
    </message>
    <message>
        <source>Ensemble result…</source>
        <translation>集合预报结果…</translation>
    </message>
    <message>
        <source>Ensemble result</source>
        <translation>集合预报结果</translation>
    </message>
    <message>
        <source>NetCDF files (*.nc)</source>
        <translation>NetCDF 文件 (*.nc)</translation>
    </message>
    <message>
        <source>{n} members, {ok} completed: {path}</source>
        <translation>{n} 个成员，{ok} 个完成：{path}</translation>
    </message>
    <message>
        <source>P(depth ≥ 0.15 m)</source>
        <translation>P(水深 ≥ 0.15 m)</translation>
    </message>
    <message>
        <source>Running {n} members…</source>
        <translation>正在运行 {n} 个成员…</translation>
    </message>
    <message>
        <source>Ensemble cancelled</source>
        <translation>集合预报已取消</translation>
    </message>
    <message>
        <source>Ensemble failed</source>
        <translation>集合预报失败</translation>
    </message>
</context>
<context>
    <name>EnsemblePanel</name>
    <message>
        <source>with 2D rehearsal (coarse)</source>
        <translation>含二维预演（粗网格）</translation>
    </message>
    <message>
        <source>Run ensemble</source>
        <translation>运行集合预报</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>%v / %m members</source>
        <translation>%v / %m 个成员</translation>
    </message>
    <message>
        <source>No ensemble result open</source>
        <translation>未打开集合预报结果</translation>
    </message>
    <message>
        <source> h</source>
        <translation> 小时</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>成员数</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>方案</translation>
    </message>
    <message>
        <source>Fan chart station</source>
        <translation>扇形图站点</translation>
    </message>
    <message>
        <source>P(warning) within</source>
        <translation>预警概率预见期</translation>
    </message>
    <message>
        <source>P(≥ yellow, main station)</source>
        <translation>P(≥ 黄色，主控站)</translation>
    </message>
    <message>
        <source>P(reservoir ≥ design level)</source>
        <translation>P(水库 ≥ 设计洪水位)</translation>
    </message>
    <message>
        <source>People at risk (mean)</source>
        <translation>受威胁人口（均值）</translation>
    </message>
    <message>
        <source>People at risk (90th pct)</source>
        <translation>受威胁人口（90% 分位）</translation>
    </message>
    <message>
        <source>P({place} flooded)</source>
        <translation>P({place} 被淹)</translation>
    </message>
</context>
<context>
    <name>FourPreController</name>
    <message>
        <source>Timeline</source>
        <translation>时间轴</translation>
    </message>
    <message>
        <source>Four-pre</source>
        <translation>四预</translation>
    </message>
    <message>
        <source>Forecast design storm…</source>
        <translation>设计暴雨预报…</translation>
    </message>
    <message>
        <source>Play rehearsal result…</source>
        <translation>播放预演结果…</translation>
    </message>
    <message>
        <source>Compare plans…</source>
        <translation>预案比选…</translation>
    </message>
    <message>
        <source>Forecast</source>
        <translation>预报</translation>
    </message>
    <message>
        <source>This basin has no design storm.</source>
        <translation>该流域没有设计暴雨。</translation>
    </message>
    <message>
        <source>Design storm</source>
        <translation>设计暴雨</translation>
    </message>
    <message>
        <source>Compare plans</source>
        <translation>预案比选</translation>
    </message>
    <message>
        <source>This basin offers no plan templates.</source>
        <translation>本流域没有预案模板。</translation>
    </message>
    <message>
        <source>Rehearsal result</source>
        <translation>预演结果</translation>
    </message>
    <message>
        <source>NetCDF (*.nc)</source>
        <translation>NetCDF 文件 (*.nc)</translation>
    </message>
    <message>
        <source>Forecast ready: {h} hours, {n} forecast warnings</source>
        <translation>预报完成：{h} 小时，预报预警 {n} 条</translation>
    </message>
    <message>
        <source>Rain layer</source>
        <translation>雨量图层</translation>
    </message>
    <message>
        <source>Select a station first (alarm list or chart).</source>
        <translation>请先选择站点（告警列表或过程线）。</translation>
    </message>
    <message>
        <source>Rehearsal</source>
        <translation>预演</translation>
    </message>
    <message>
        <source>Max depth difference (m)</source>
        <translation>最大水深差（米）</translation>
    </message>
    <message>
        <source>Difference map: {b} − {a}</source>
        <translation>差值图：{b} − {a}</translation>
    </message>
    <message>
        <source>Forecasting {rain}…</source>
        <translation>正在预报 {rain}…</translation>
    </message>
    <message>
        <source>Compare plans with their floods first.</source>
        <translation>请先比选方案并做二维预演。</translation>
    </message>
    <message>
        <source>BIM: {name}</source>
        <translation>BIM：{name}</translation>
    </message>
    <message>
        <source>BIM model</source>
        <translation>BIM 模型</translation>
    </message>
</context>
<context>
    <name>FourPrePanel</name>
    <message>
        <source>forecast</source>
        <translation>预报</translation>
    </message>
    <message>
        <source>rehearsal</source>
        <translation>预演</translation>
    </message>
    <message>
        <source>plan comparison</source>
        <translation>预案比选</translation>
    </message>
    <message>
        <source>flood peak</source>
        <translation>洪水峰值</translation>
    </message>
    <message>
        <source>solver warm-up</source>
        <translation>求解器预热</translation>
    </message>
    <message>
        <source>scenario</source>
        <translation>情景</translation>
    </message>
    <message>
        <source>replay</source>
        <translation>回放</translation>
    </message>
    <message>
        <source>video</source>
        <translation>视频</translation>
    </message>
    <message>
        <source>Forecast</source>
        <translation>预报</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>Rehearsal</source>
        <translation>预演</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>预案</translation>
    </message>
    <message>
        <source>Gate schedule</source>
        <translation>闸门调度</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Rain CSV file…</source>
        <translation>雨量 CSV 文件…</translation>
    </message>
    <message>
        <source>Observed radar + nowcast…</source>
        <translation>实测雷达 + 短临预报…</translation>
    </message>
    <message>
        <source>No rain</source>
        <translation>无降雨</translation>
    </message>
    <message>
        <source>{h:g} h</source>
        <translation>{h:g} 小时</translation>
    </message>
    <message>
        <source>Run forecast</source>
        <translation>开始预报</translation>
    </message>
    <message>
        <source>Rain</source>
        <translation>降雨</translation>
    </message>
    <message>
        <source>Start (basin time)</source>
        <translation>起报时间（流域时间）</translation>
    </message>
    <message>
        <source>Horizon</source>
        <translation>预见期</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>时段</translation>
    </message>
    <message>
        <source>Rain CSV</source>
        <translation>雨量 CSV</translation>
    </message>
    <message>
        <source>No rain file was chosen.</source>
        <translation>未选择雨量文件。</translation>
    </message>
    <message>
        <source>Radar rain (CF-NetCDF)</source>
        <translation>雷达降雨（CF-NetCDF）</translation>
    </message>
    <message>
        <source>NetCDF (*.nc)</source>
        <translation>NetCDF 文件 (*.nc)</translation>
    </message>
    <message>
        <source>No radar file was chosen.</source>
        <translation>未选择雷达文件。</translation>
    </message>
    <message>
        <source>No breach</source>
        <translation>不溃决</translation>
    </message>
    <message>
        <source>Rehearse the forecast in 2D</source>
        <translation>按预报进行二维预演</translation>
    </message>
    <message>
        <source>Hours</source>
        <translation>时长</translation>
    </message>
    <message>
        <source>Breach</source>
        <translation>溃口</translation>
    </message>
    <message>
        <source>Breach at (h after start)</source>
        <translation>溃决时刻（起报后小时）</translation>
    </message>
    <message>
        <source>Scheme: Godunov for a breach, local inertial otherwise.</source>
        <translation>格式：溃决用 Godunov 格式，否则用局部惯性格式。</translation>
    </message>
    <message>
        <source>Add plans from a TOML file…</source>
        <translation>从 TOML 文件添加预案…</translation>
    </message>
    <message>
        <source>With a 2D rehearsal of each plan (flooded area, people)</source>
        <translation>每个预案做二维预演（淹没面积、受影响人口）</translation>
    </message>
    <message>
        <source>Compare the checked plans</source>
        <translation>比选勾选的预案</translation>
    </message>
    <message>
        <source>Difference map</source>
        <translation>差值图</translation>
    </message>
    <message>
        <source>Max depth of the second plan minus the first</source>
        <translation>第二个预案的最大水深减去第一个预案的</translation>
    </message>
    <message>
        <source>Side by side</source>
        <translation>并排视图</translation>
    </message>
    <message>
        <source>The plans&apos; floods in linked 3D views</source>
        <translation>各方案洪水的联动三维视图</translation>
    </message>
    <message>
        <source>Plan file</source>
        <translation>预案文件</translation>
    </message>
    <message>
        <source>Check two to four plans to compare.</source>
        <translation>请勾选两到四个预案进行比选。</translation>
    </message>
    <message>
        <source>Indicator</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Δ change</source>
        <translation>Δ 变化</translation>
    </message>
    <message>
        <source>peak level</source>
        <translation>最高水位</translation>
    </message>
    <message>
        <source>peak release</source>
        <translation>最大下泄流量</translation>
    </message>
    <message>
        <source>highest warning grade</source>
        <translation>最高预警等级</translation>
    </message>
    <message>
        <source>hours at or above warning</source>
        <translation>超警历时（h）</translation>
    </message>
    <message>
        <source>flooded area (depth ≥ 0.15 m)</source>
        <translation>淹没面积（水深 ≥ 0.15 m）</translation>
    </message>
    <message>
        <source>buildings in water &gt; 0.5 m</source>
        <translation>水深 &gt; 0.5 m 的建筑</translation>
    </message>
    <message>
        <source>people in water &gt; 0.5 m</source>
        <translation>水深 &gt; 0.5 m 的人口</translation>
    </message>
    <message>
        <source>max depth</source>
        <translation>最大水深</translation>
    </message>
    <message>
        <source>arrival (h)</source>
        <translation>到达时间（小时）</translation>
    </message>
    <message>
        <source>duration of flooding</source>
        <translation>淹没历时</translation>
    </message>
    <message>
        <source>{name}: opening of its gates (0–{top:g} m)</source>
        <translation>{name}：闸门开度（0–{top:g} m）</translation>
    </message>
    <message>
        <source>Select a gate and a plan to derive from first.</source>
        <translation>请先选择闸门和基准方案。</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>{job}: {state}</source>
        <translation>{job}：{state}</translation>
    </message>
</context>
<context>
    <name>GateEditor</name>
    <message>
        <source>Select a gate leaf, the dam or the sluice in the BIM model.</source>
        <translation>请在 BIM 模型中选择闸门门叶、大坝或水闸。</translation>
    </message>
    <message>
        <source>Hour after start</source>
        <translation>起始后小时</translation>
    </message>
    <message>
        <source>Opening (m)</source>
        <translation>开度 (m)</translation>
    </message>
    <message>
        <source>Add row</source>
        <translation>添加行</translation>
    </message>
    <message>
        <source>Remove row</source>
        <translation>删除行</translation>
    </message>
    <message>
        <source>Rehearse this change</source>
        <translation>在此修改下预演</translation>
    </message>
    <message>
        <source>Derived from plan</source>
        <translation>基于方案</translation>
    </message>
</context>
<context>
    <name>HydrographWidget</name>
    <message>
        <source>Observed</source>
        <translation>实测</translation>
    </message>
    <message>
        <source>Forecast</source>
        <translation>预报</translation>
    </message>
    <message>
        <source>No station selected</source>
        <translation>未选择测站</translation>
    </message>
    <message>
        <source>{name} ({station}) — {element} [{unit}]</source>
        <translation>{name}（{station}）— {element} [{unit}]</translation>
    </message>
    <message>
        <source>Blue: approaching flood limit</source>
        <translation>蓝色：接近汛限水位</translation>
    </message>
    <message>
        <source>Yellow: flood-limit level</source>
        <translation>黄色：汛限水位</translation>
    </message>
    <message>
        <source>Orange: design flood level</source>
        <translation>橙色：设计洪水位</translation>
    </message>
    <message>
        <source>Red: check flood level</source>
        <translation>红色：校核洪水位</translation>
    </message>
    <message>
        <source>Blue: approaching warning</source>
        <translation>蓝色：接近警戒水位</translation>
    </message>
    <message>
        <source>Yellow: warning level</source>
        <translation>黄色：警戒水位</translation>
    </message>
    <message>
        <source>Orange: guaranteed level</source>
        <translation>橙色：保证水位</translation>
    </message>
    <message>
        <source>Red: historical maximum</source>
        <translation>红色：历史最高水位</translation>
    </message>
    <message>
        <source>Forecast issued</source>
        <translation>预报发布</translation>
    </message>
</context>
<context>
    <name>Language</name>
    <message>
        <source>en</source>
        <translation>zh_CN</translation>
    </message>
</context>
<context>
    <name>LayerTree</name>
    <message>
        <source>Layer</source>
        <translation>图层</translation>
    </message>
</context>
<context>
    <name>LiveController</name>
    <message>
        <source>Hydrograph</source>
        <translation>过程线</translation>
    </message>
    <message>
        <source>Live data</source>
        <translation>实时数据</translation>
    </message>
    <message>
        <source>Receive SL 651 over TCP…</source>
        <translation>通过 TCP 接收 SL 651…</translation>
    </message>
    <message>
        <source>Follow an observation store…</source>
        <translation>跟踪观测数据库…</translation>
    </message>
    <message>
        <source>Start {name}</source>
        <translation>启动{name}</translation>
    </message>
    <message>
        <source>Stop live data</source>
        <translation>停止实时数据</translation>
    </message>
    <message>
        <source>Observation store</source>
        <translation>观测数据库</translation>
    </message>
    <message>
        <source>SQLite database (*.db)</source>
        <translation>SQLite 数据库 (*.db)</translation>
    </message>
    <message>
        <source>SL 651 receiver</source>
        <translation>SL 651 接收</translation>
    </message>
    <message>
        <source>Listen on (host:port)</source>
        <translation>监听地址（主机:端口）</translation>
    </message>
    <message>
        <source>Receiving SL 651 on {host}:{port}</source>
        <translation>正在 {host}:{port} 接收 SL 651</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>HydroTwin — river-basin flood control</source>
        <translation>HydroTwin — 流域防洪数字孪生</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>图层</translation>
    </message>
    <message>
        <source>Basins</source>
        <translation>流域</translation>
    </message>
    <message>
        <source>Move the cursor over the terrain</source>
        <translation>将光标移到地形上</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open basin folder…</source>
        <translation>打开流域文件夹…</translation>
    </message>
    <message>
        <source>New basin…</source>
        <translation>新建流域…</translation>
    </message>
    <message>
        <source>Save screenshot…</source>
        <translation>保存截图…</translation>
    </message>
    <message>
        <source>Open scenario…</source>
        <translation>打开情景…</translation>
    </message>
    <message>
        <source>Save scenario…</source>
        <translation>保存情景…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Reset view</source>
        <translation>重置视角</translation>
    </message>
    <message>
        <source>Presenter mode</source>
        <translation>会商模式</translation>
    </message>
    <message>
        <source>Four-&amp;pre</source>
        <translation>四预(&amp;P)</translation>
    </message>
    <message>
        <source>Open a basin first</source>
        <translation>请先打开流域</translation>
    </message>
    <message>
        <source>L&amp;ive</source>
        <translation>实时(&amp;I)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>About HydroTwin</source>
        <translation>关于 HydroTwin</translation>
    </message>
    <message>
        <source>Opening basin {name}…</source>
        <translation>正在打开流域 {name}…</translation>
    </message>
    <message>
        <source>Could not open the basin</source>
        <translation>无法打开流域</translation>
    </message>
    <message>
        <source>Basin {name} opened</source>
        <translation>流域 {name} 已打开</translation>
    </message>
    <message>
        <source>Off the terrain</source>
        <translation>不在地形上</translation>
    </message>
    <message>
        <source>no data</source>
        <translation>无数据</translation>
    </message>
    <message>
        <source>X {x:.1f}  Y {y:.1f}  elevation {z}</source>
        <translation>X {x:.1f}  Y {y:.1f}  高程 {z}</translation>
    </message>
    <message>
        <source>Open basin folder</source>
        <translation>打开流域文件夹</translation>
    </message>
    <message>
        <source>Save screenshot</source>
        <translation>保存截图</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>The language changes when HydroTwin restarts.</source>
        <translation>重启 HydroTwin 后语言生效。</translation>
    </message>
    <message>
        <source>HydroTwin {version}: a digital twin for river-basin flood control (forecast, warning, rehearsal, plan).</source>
        <translation>HydroTwin {version}：流域防洪数字孪生（预报、预警、预演、预案）。</translation>
    </message>
    <message>
        <source>Rain-holding capacity…</source>
        <translation>纳雨能力…</translation>
    </message>
    <message>
        <source>Reservoir tables (*.gpkg *.csv)</source>
        <translation>水库表 (*.gpkg *.csv)</translation>
    </message>
    <message>
        <source>Reservoir table</source>
        <translation>水库表</translation>
    </message>
    <message>
        <source>Rain forecast (optional)</source>
        <translation>降雨预报（可选）</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Plugin panel</source>
        <translation>插件面板</translation>
    </message>
    <message>
        <source>Duty mode…</source>
        <translation>值守模式…</translation>
    </message>
    <message>
        <source>Duty mode</source>
        <translation>值守模式</translation>
    </message>
    <message>
        <source>Open a live store first (Live menu).</source>
        <translation>请先打开实时数据库（实时菜单）。</translation>
    </message>
</context>
<context>
    <name>PlanCompareDialog</name>
    <message>
        <source>Compare plans</source>
        <translation>预案比选</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>Storm</source>
        <translation>暴雨</translation>
    </message>
    <message>
        <source>Forecast length</source>
        <translation>预见期</translation>
    </message>
    <message>
        <source>Press Compare to forecast every plan.</source>
        <translation>点击“比较”对每个预案进行预报。</translation>
    </message>
    <message>
        <source>Export report…</source>
        <translation>导出报告…</translation>
    </message>
    <message>
        <source>Chosen plan</source>
        <translation>选定预案</translation>
    </message>
    <message>
        <source>Forecasting {n} plans…</source>
        <translation>正在预报 {n} 个预案…</translation>
    </message>
    <message>
        <source>peak level (m)</source>
        <translation>最高水位（m）</translation>
    </message>
    <message>
        <source>margin to design flood level (m)</source>
        <translation>距设计洪水位（m）</translation>
    </message>
    <message>
        <source>margin to check flood level (m)</source>
        <translation>距校核洪水位（m）</translation>
    </message>
    <message>
        <source>peak release (m³/s)</source>
        <translation>最大下泄流量（m³/s）</translation>
    </message>
    <message>
        <source>highest warning grade</source>
        <translation>最高预警等级</translation>
    </message>
    <message>
        <source>hours at or above warning</source>
        <translation>超警历时（h）</translation>
    </message>
    <message>
        <source>rank by the rule</source>
        <translation>按规则排序</translation>
    </message>
    <message>
        <source>Recommended by the rule: {name}.</source>
        <translation>规则推荐：{name}。</translation>
    </message>
    <message>
        <source>No plan keeps the reservoirs below their check flood level.</source>
        <translation>没有预案能使水库不超校核洪水位。</translation>
    </message>
    <message>
        <source>The officer chooses.</source>
        <translation>由调度人员决定。</translation>
    </message>
    <message>
        <source>Ensemble: P(≥ yellow, main station)</source>
        <translation>集合预报：P(≥ 黄色，主控站)</translation>
    </message>
    <message>
        <source>Ensemble: P(reservoir ≥ design level)</source>
        <translation>集合预报：P(水库 ≥ 设计洪水位)</translation>
    </message>
    <message>
        <source>Ensemble: people at risk (mean)</source>
        <translation>集合预报：受威胁人口（均值）</translation>
    </message>
    <message>
        <source>Ensemble: people at risk (90th pct)</source>
        <translation>集合预报：受威胁人口（90% 分位）</translation>
    </message>
    <message>
        <source>Ensemble: P({place} flooded)</source>
        <translation>集合预报：P({place} 被淹)</translation>
    </message>
    <message>
        <source>Export report</source>
        <translation>导出报告</translation>
    </message>
    <message>
        <source>HTML report (*.html)</source>
        <translation>HTML 报告 (*.html)</translation>
    </message>
</context>
<context>
    <name>PlanPdf</name>
    <message>
        <source>Peak level</source>
        <translation>最高水位</translation>
    </message>
    <message>
        <source>Peak release</source>
        <translation>最大下泄流量</translation>
    </message>
    <message>
        <source>Highest warning grade</source>
        <translation>最高预警等级</translation>
    </message>
    <message>
        <source>Hours at or above warning</source>
        <translation>超警戒历时</translation>
    </message>
    <message>
        <source>Flooded area (depth ≥ 0.15 m)</source>
        <translation>淹没面积（水深 ≥ 0.15 m）</translation>
    </message>
    <message>
        <source>Buildings in water deeper than 0.5 m</source>
        <translation>水深超过 0.5 m 的房屋</translation>
    </message>
    <message>
        <source>People in water deeper than 0.5 m</source>
        <translation>水深超过 0.5 m 的人口</translation>
    </message>
    <message>
        <source>Max depth</source>
        <translation>最大水深</translation>
    </message>
    <message>
        <source>Arrival (depth ≥ 0.15 m)</source>
        <translation>淹没到达（水深 ≥ 0.15 m）</translation>
    </message>
    <message>
        <source>Duration of flooding</source>
        <translation>淹没历时</translation>
    </message>
    <message>
        <source>dry</source>
        <translation>未淹没</translation>
    </message>
    <message>
        <source>building</source>
        <translation>房屋</translation>
    </message>
    <message>
        <source>Maximum depth</source>
        <translation>最大水深</translation>
    </message>
    <message>
        <source>not flooded</source>
        <translation>未淹没</translation>
    </message>
    <message>
        <source>Arrival time (hours after start)</source>
        <translation>洪水到达时间（起报后小时）</translation>
    </message>
    <message>
        <source>Difference of maximum depth</source>
        <translation>最大水深差</translation>
    </message>
    <message>
        <source>flood limit</source>
        <translation>汛限水位</translation>
    </message>
    <message>
        <source>design flood</source>
        <translation>设计洪水位</translation>
    </message>
    <message>
        <source>check flood</source>
        <translation>校核洪水位</translation>
    </message>
    <message>
        <source>reservoir level</source>
        <translation>库水位</translation>
    </message>
    <message>
        <source>water level</source>
        <translation>水位</translation>
    </message>
    <message>
        <source>Indicator</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>序号</translation>
    </message>
    <message>
        <source>Structure</source>
        <translation>工程</translation>
    </message>
    <message>
        <source>From</source>
        <translation>起始时间</translation>
    </message>
    <message>
        <source>Order</source>
        <translation>指令</translation>
    </message>
    <message>
        <source>Responsible / signature</source>
        <translation>责任人／签字</translation>
    </message>
    <message>
        <source>pre-release to level %1 m</source>
        <translation>预泄至水位 %1 m</translation>
    </message>
    <message>
        <source>before the start</source>
        <translation>起报前</translation>
    </message>
    <message>
        <source>set opening to %1 m</source>
        <translation>闸门开度调至 %1 m</translation>
    </message>
    <message>
        <source>Station</source>
        <translation>测站</translation>
    </message>
    <message>
        <source>Grade</source>
        <translation>预警等级</translation>
    </message>
    <message>
        <source>Threshold (m)</source>
        <translation>阈值（m）</translation>
    </message>
    <message>
        <source>Reached</source>
        <translation>出现时间</translation>
    </message>
    <message>
        <source>Lead time (h)</source>
        <translation>预见期（h）</translation>
    </message>
    <message>
        <source>no threshold is crossed</source>
        <translation>无超阈值</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>地点</translation>
    </message>
    <message>
        <source>People</source>
        <translation>人口</translation>
    </message>
    <message>
        <source>Buildings</source>
        <translation>房屋</translation>
    </message>
    <message>
        <source>Water arrives</source>
        <translation>洪水到达</translation>
    </message>
    <message>
        <source>Max depth (m)</source>
        <translation>最大水深（m）</translation>
    </message>
    <message>
        <source>Duration (h)</source>
        <translation>淹没历时（h）</translation>
    </message>
    <message>
        <source>Evacuate</source>
        <translation>撤离</translation>
    </message>
    <message>
        <source>not reached</source>
        <translation>未到达</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>stand by</source>
        <translation>待命</translation>
    </message>
    <message>
        <source>Flood-control plan (预案)</source>
        <translation>防洪调度预案</translation>
    </message>
    <message>
        <source>Basin</source>
        <translation>流域</translation>
    </message>
    <message>
        <source>Scenario</source>
        <translation>情景</translation>
    </message>
    <message>
        <source>Storm</source>
        <translation>暴雨</translation>
    </message>
    <message>
        <source>Forecast issued</source>
        <translation>预报发布时间</translation>
    </message>
    <message>
        <source>Forecast length</source>
        <translation>预见期</translation>
    </message>
    <message>
        <source>Plan chosen</source>
        <translation>选定方案</translation>
    </message>
    <message>
        <source>Prepared by</source>
        <translation>编制单位</translation>
    </message>
    <message>
        <source>Organisation</source>
        <translation>单位</translation>
    </message>
    <message>
        <source>Software</source>
        <translation>软件</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>职责</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Signature</source>
        <translation>签字</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>Prepared</source>
        <translation>编制</translation>
    </message>
    <message>
        <source>Reviewed</source>
        <translation>审核</translation>
    </message>
    <message>
        <source>Approved</source>
        <translation>批准</translation>
    </message>
    <message>
        <source>Signatures</source>
        <translation>签发</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Recommendation and why</source>
        <translation>推荐方案及理由</translation>
    </message>
    <message>
        <source>Recommended by the rule:</source>
        <translation>按规则推荐：</translation>
    </message>
    <message>
        <source>Plan chosen:</source>
        <translation>选定方案：</translation>
    </message>
    <message>
        <source>Rule:</source>
        <translation>规则：</translation>
    </message>
    <message>
        <source>Ranking:</source>
        <translation>排序：</translation>
    </message>
    <message>
        <source>Above the check flood level:</source>
        <translation>超过校核洪水位：</translation>
    </message>
    <message>
        <source>Indicators of all plans</source>
        <translation>各方案指标</translation>
    </message>
    <message>
        <source>★ marks the best value of a row.</source>
        <translation>★ 标出每行的最优值。</translation>
    </message>
    <message>
        <source>Flood maps</source>
        <translation>淹没图</translation>
    </message>
    <message>
        <source>Hydrographs</source>
        <translation>过程线</translation>
    </message>
    <message>
        <source>Operation orders</source>
        <translation>调度操作指令</translation>
    </message>
    <message>
        <source>Thresholds crossed</source>
        <translation>超阈值情况</translation>
    </message>
    <message>
        <source>Places at risk: evacuation list</source>
        <translation>受威胁地点：撤离名单</translation>
    </message>
</context>
<context>
    <name>PlanReport</name>
    <message>
        <source>Indicator</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Start level (m)</source>
        <translation>起调水位（m）</translation>
    </message>
    <message>
        <source>Peak level (m)</source>
        <translation>最高水位（m）</translation>
    </message>
    <message>
        <source>Margin to design flood level (m)</source>
        <translation>距设计洪水位（m）</translation>
    </message>
    <message>
        <source>Margin to check flood level (m)</source>
        <translation>距校核洪水位（m）</translation>
    </message>
    <message>
        <source>Peak inflow (m³/s)</source>
        <translation>最大入库流量（m³/s）</translation>
    </message>
    <message>
        <source>Peak release (m³/s)</source>
        <translation>最大下泄流量（m³/s）</translation>
    </message>
    <message>
        <source>End level (m)</source>
        <translation>末水位（m）</translation>
    </message>
    <message>
        <source>not downstream of a reservoir</source>
        <translation>不在水库下游</translation>
    </message>
    <message>
        <source>warning</source>
        <translation>警戒</translation>
    </message>
    <message>
        <source>guaranteed</source>
        <translation>保证</translation>
    </message>
    <message>
        <source>Peak discharge (m³/s)</source>
        <translation>最大流量（m³/s）</translation>
    </message>
    <message>
        <source>Highest warning grade</source>
        <translation>最高预警等级</translation>
    </message>
    <message>
        <source>Hours at or above warning</source>
        <translation>超警历时（h）</translation>
    </message>
    <message>
        <source>Highest grade downstream</source>
        <translation>下游最高预警等级</translation>
    </message>
    <message>
        <source>Acceptable (below check flood level)</source>
        <translation>可接受（不超校核洪水位）</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>Rank by the rule</source>
        <translation>按规则排序</translation>
    </message>
    <message>
        <source>reservoir level</source>
        <translation>库水位</translation>
    </message>
    <message>
        <source>flood limit</source>
        <translation>汛限水位</translation>
    </message>
    <message>
        <source>design flood</source>
        <translation>设计洪水位</translation>
    </message>
    <message>
        <source>check flood</source>
        <translation>校核洪水位</translation>
    </message>
    <message>
        <source>safe discharge</source>
        <translation>安全泄量</translation>
    </message>
    <message>
        <source>reservoir outflow</source>
        <translation>出库流量</translation>
    </message>
    <message>
        <source>warning discharge</source>
        <translation>警戒流量</translation>
    </message>
    <message>
        <source>discharge</source>
        <translation>流量</translation>
    </message>
    <message>
        <source>historical max</source>
        <translation>历史最高</translation>
    </message>
    <message>
        <source>water level</source>
        <translation>水位</translation>
    </message>
    <message>
        <source>No gates.</source>
        <translation>无闸门。</translation>
    </message>
    <message>
        <source>Hour</source>
        <translation>时（h）</translation>
    </message>
    <message>
        <source>Local time</source>
        <translation>当地时间</translation>
    </message>
    <message>
        <source>none acceptable</source>
        <translation>无可接受预案</translation>
    </message>
    <message>
        <source>Basin</source>
        <translation>流域</translation>
    </message>
    <message>
        <source>Storm</source>
        <translation>暴雨</translation>
    </message>
    <message>
        <source>Forecast start</source>
        <translation>预报起始时间</translation>
    </message>
    <message>
        <source>Forecast length</source>
        <translation>预见期</translation>
    </message>
    <message>
        <source>step</source>
        <translation>时段</translation>
    </message>
    <message>
        <source>Levels</source>
        <translation>高程基准</translation>
    </message>
    <message>
        <source>Chosen plan</source>
        <translation>选定预案</translation>
    </message>
    <message>
        <source>Recommended by the rule</source>
        <translation>规则推荐预案</translation>
    </message>
    <message>
        <source>Software</source>
        <translation>软件</translation>
    </message>
    <message>
        <source>Generated</source>
        <translation>生成时间</translation>
    </message>
    <message>
        <source>Flood-control plan comparison</source>
        <translation>防洪调度预案比选报告</translation>
    </message>
    <message>
        <source>Above the check flood level:</source>
        <translation>超校核洪水位：</translation>
    </message>
    <message>
        <source>Plans side by side</source>
        <translation>预案对比</translation>
    </message>
    <message>
        <source>Hydrographs</source>
        <translation>过程线</translation>
    </message>
    <message>
        <source>Plans</source>
        <translation>预案说明</translation>
    </message>
    <message>
        <source>Gate operations of the chosen plan</source>
        <translation>选定预案的闸门操作</translation>
    </message>
    <message>
        <source>Times are local to the basin; levels in the basin datum.</source>
        <translation>时间为流域当地时间；水位为流域高程基准。</translation>
    </message>
    <message>
        <source>Gates the plans operate</source>
        <translation>各方案调度的闸门</translation>
    </message>
    <message>
        <source>Flood in the 2D rehearsal (first %1 h)</source>
        <translation>二维预演淹没情况（前 %1 小时）</translation>
    </message>
    <message>
        <source>Maximum depth per plan</source>
        <translation>各方案最大淹没水深</translation>
    </message>
    <message>
        <source>Flooded area, depth ≥ 0.15 m (km²)</source>
        <translation>淹没面积（水深 ≥ 0.15 m，km²）</translation>
    </message>
    <message>
        <source>Buildings in water deeper than 0.5 m</source>
        <translation>水深超过 0.5 m 的房屋数</translation>
    </message>
    <message>
        <source>People in water deeper than 0.5 m</source>
        <translation>水深超过 0.5 m 的受影响人口</translation>
    </message>
    <message>
        <source>Max depth (m)</source>
        <translation>最大水深（m）</translation>
    </message>
    <message>
        <source>Arrival, depth ≥ 0.15 m (h after start)</source>
        <translation>淹没到达时间（水深 ≥ 0.15 m，起报后小时）</translation>
    </message>
    <message>
        <source>Duration of flooding (h)</source>
        <translation>淹没历时（h）</translation>
    </message>
    <message>
        <source>★ marks the best value of a row: the lowest, the latest for arrival times (never flooded is best); a row where every plan is equal has no mark.</source>
        <translation>★ 标出每行的最优值：取最小值，到达时间取最晚（未淹没为最优）；各方案相同的行不标。</translation>
    </message>
    <message>
        <source>a sluice without storage passes its inflow: flows downstream are the same under any opening</source>
        <translation>无调蓄能力的水闸来多少泄多少：任何开度下游流量都相同</translation>
    </message>
    <message>
        <source>never flooded</source>
        <translation>未淹没</translation>
    </message>
    <message>
        <source>from %1 h to %2 h</source>
        <translation>第 %1 至 %2 小时</translation>
    </message>
    <message>
        <source>gate above water</source>
        <translation>闸门脱离水面</translation>
    </message>
    <message>
        <source>gate in the water throughout</source>
        <translation>闸门全程入水控泄</translation>
    </message>
    <message>
        <source>its opening changes nothing</source>
        <translation>其开度对结果无影响</translation>
    </message>
    <message>
        <source>dry (&lt; 0.15 m)</source>
        <translation>无淹没（&lt; 0.15 m）</translation>
    </message>
    <message>
        <source>building</source>
        <translation>房屋</translation>
    </message>
</context>
<context>
    <name>PlanViewsWindow</name>
    <message>
        <source>Plans side by side</source>
        <translation>方案并排对比</translation>
    </message>
</context>
<context>
    <name>PresenterMode</name>
    <message>
        <source>Space play/pause · ←/→ one hour · 1–4 plan · F full screen · Esc leave</source>
        <translation>空格 播放/暂停 · ←/→ 步进一小时 · 1–4 切换方案 · F 全屏 · Esc 退出</translation>
    </message>
    <message>
        <source>Plans</source>
        <translation>方案</translation>
    </message>
    <message>
        <source>Plan %1: %2</source>
        <translation>方案 %1：%2</translation>
    </message>
</context>
<context>
    <name>ScenarioController</name>
    <message>
        <source>Open scenario</source>
        <translation>打开情景</translation>
    </message>
    <message>
        <source>Scenario (*.toml)</source>
        <translation>情景文件 (*.toml)</translation>
    </message>
    <message>
        <source>Save scenario</source>
        <translation>保存情景</translation>
    </message>
    <message>
        <source>No scenario is open.</source>
        <translation>尚未打开情景。</translation>
    </message>
    <message>
        <source>Drill</source>
        <translation>演练</translation>
    </message>
    <message>
        <source>Continue</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Record camera key frame</source>
        <translation>记录相机关键帧</translation>
    </message>
    <message>
        <source>Add annotation at the view centre…</source>
        <translation>在视图中心添加标注…</translation>
    </message>
    <message>
        <source>Trainer</source>
        <translation>培训</translation>
    </message>
    <message>
        <source>Annotation</source>
        <translation>标注</translation>
    </message>
    <message>
        <source>Text:</source>
        <translation>文字：</translation>
    </message>
    <message>
        <source>Presenter mode</source>
        <translation>会商模式</translation>
    </message>
    <message>
        <source>Open a basin first.</source>
        <translation>请先打开流域。</translation>
    </message>
    <message>
        <source>Screen:</source>
        <translation>屏幕：</translation>
    </message>
</context>
<context>
    <name>Timeline</name>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <source>×{n}</source>
        <translation>×{n}</translation>
    </message>
    <message>
        <source>One hour back</source>
        <translation>后退一小时</translation>
    </message>
    <message>
        <source>One hour on</source>
        <translation>前进一小时</translation>
    </message>
    <message>
        <source>Jump to the selected station&apos;s forecast peak</source>
        <translation>跳到所选站点的预报峰值时刻</translation>
    </message>
    <message>
        <source>Jump to the largest flooded area of the rehearsal</source>
        <translation>跳到预演淹没面积最大的时刻</translation>
    </message>
    <message>
        <source>Station peak</source>
        <translation>站点峰值</translation>
    </message>
    <message>
        <source>Flood peak</source>
        <translation>洪水峰值</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
</context>
<context>
    <name>TrainerController</name>
    <message>
        <source>Historical replay…</source>
        <translation>历史重演…</translation>
    </message>
    <message>
        <source>Export video…</source>
        <translation>导出视频…</translation>
    </message>
    <message>
        <source>Follow the camera path</source>
        <translation>跟随相机路径</translation>
    </message>
    <message>
        <source>Historical replay</source>
        <translation>历史重演</translation>
    </message>
    <message>
        <source>SL 651 capture (*.sl651 *.txt);;All files (*)</source>
        <translation>SL 651 报文记录 (*.sl651 *.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Open a basin first.</source>
        <translation>请先打开流域。</translation>
    </message>
    <message>
        <source>Replaying {start} … {end}</source>
        <translation>正在重演 {start} … {end}</translation>
    </message>
    <message>
        <source>Export video</source>
        <translation>导出视频</translation>
    </message>
    <message>
        <source>MP4 video (*.mp4)</source>
        <translation>MP4 视频 (*.mp4)</translation>
    </message>
    <message>
        <source>No rehearsal is shown.</source>
        <translation>当前没有显示预演结果。</translation>
    </message>
    <message>
        <source>Writing the video…</source>
        <translation>正在写入视频…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Video export cancelled</source>
        <translation>视频导出已取消</translation>
    </message>
    <message>
        <source>Video {path}: {n} frames in {s:.0f} s</source>
        <translation>视频 {path}：{n} 帧，用时 {s:.0f} 秒</translation>
    </message>
</context>
</TS>

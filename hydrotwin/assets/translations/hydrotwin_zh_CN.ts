<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="zh_CN">
<context>
    <name>BasinPicker</name>
    <message>
        <source>{name} — broken</source>
        <translation>{name} — 已损坏</translation>
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
        <source>Save screenshot…</source>
        <translation>保存截图…</translation>
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
</context>
</TS>
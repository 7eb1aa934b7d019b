package io.aimesh.filter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Pool;
import io.aimesh.filter.api.Scorers;
import io.aimesh.filter.api.Version;
import io.aimesh.filter.api.VersionOverride;
import io.aimesh.filter.config.RuntimeConfig.ModelInfo;
import io.aimesh.picker.Endpoint;
import io.aimesh.picker.ScorerWeights;
import io.aimesh.picker.Thresholds;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the filter reads the routing half of its config: versions it chooses, overrides, picker pools. */
class RuntimeConfigTest {
    private static final Model ROUTED = Model.newBuilder().setName("llama").setTokenizer("approximate")
            .addVersions(Version.newBuilder().setName("v1").setPool("llama-v1").setWeight(90))
            .addVersions(Version.newBuilder().setName("v2").setPool("llama-v2").setWeight(10))
            .addOverrides(VersionOverride.newBuilder().setHeader("x-aimesh-version").setValue("v2").setVersion("v2"))
            .build();
    private static final Pool POOL = Pool.newBuilder().setName("llama-v1")
            .addEndpoints("10.0.0.1:8000").addEndpoints("[::1]:8001")
            .setMetricsPath("/stats").setMetricsIntervalMs(50)
            .setScorers(Scorers.newBuilder().setQueue(3).setKvCache(2).setInFlight(1).setPrefixAffinity(0).setLoraAffinity(4))
            .setMaxQueue(7).setMaxKvCachePercent(90).setRetryAfterSeconds(3)
            .build();

    @Test
    void overrideHeader_winsOverTheDraw() throws Exception {
        ModelInfo model = compile(ROUTED).model("llama");

        assertThat(model.filterRouted()).isTrue();
        assertThat(model.chooseVersion(Map.of("x-aimesh-version", "v2")::get, 0.0).name()).isEqualTo("v2");
        assertThat(model.chooseVersion(Map.of("x-aimesh-version", "v3")::get, 0.0).name()).isEqualTo("v1");
    }

    @Test
    void draw_splitsByWeight_atTheExactBoundary() throws Exception {
        ModelInfo model = compile(ROUTED).model("llama");

        assertThat(model.chooseVersion(name -> null, 0.0).name()).isEqualTo("v1");
        assertThat(model.chooseVersion(name -> null, 0.8999).name()).isEqualTo("v1");
        assertThat(model.chooseVersion(name -> null, 0.9).name()).isEqualTo("v2");
        assertThat(model.chooseVersion(name -> null, 0.99999).name()).isEqualTo("v2");
    }

    @Test
    void allWeightsZero_andNoOverride_choosesNothing() throws Exception {
        Model zero = ROUTED.toBuilder().setVersions(0, ROUTED.getVersions(0).toBuilder().setWeight(0))
                .setVersions(1, ROUTED.getVersions(1).toBuilder().setWeight(0)).build();
        ModelInfo model = compile(zero).model("llama");

        assertThat(model.chooseVersion(name -> null, 0.5)).isNull();
        assertThat(model.chooseVersion(Map.of("x-aimesh-version", "v2")::get, 0.5).pool()).isEqualTo("llama-v2");
    }

    @Test
    void modelWithoutVersions_isLeftToEnvoysSplit() throws Exception {
        RuntimeConfig config = compile(Model.newBuilder().setName("plain").setTokenizer("approximate").build());

        assertThat(config.model("plain").filterRouted()).isFalse();
    }

    @Test
    void pool_becomesItsPickerSetup() throws Exception {
        RuntimeConfig config = RuntimeConfig.compile(FilterConfig.newBuilder().addModels(ROUTED).addPools(POOL).build(), "1");

        RuntimeConfig.PoolInfo pool = config.pools().get("llama-v1");
        assertThat(pool.retryAfterSeconds()).isEqualTo(3);
        assertThat(pool.setup().endpoints()).containsExactly(new Endpoint("10.0.0.1", 8000), new Endpoint("::1", 8001));
        assertThat(pool.setup().monitor().metricsPath()).isEqualTo("/stats");
        assertThat(pool.setup().monitor().interval()).isEqualTo(Duration.ofMillis(50));
        assertThat(pool.setup().weights()).isEqualTo(new ScorerWeights(3, 2, 1, 0, 4));
        assertThat(pool.setup().thresholds()).isEqualTo(new Thresholds(7, 0.9, Thresholds.DEFAULT.prefixMaxQueue(),
                Thresholds.DEFAULT.loraMaxQueue()));
    }

    @Test
    void queueWait_endsBeforeEnvoysMessageTimeout() throws Exception {
        RuntimeConfig config = RuntimeConfig.compile(FilterConfig.newBuilder()
                .setSettings(io.aimesh.filter.api.Settings.newBuilder().setMessageTimeoutMs(2_000)).build(), "1");

        assertThat(config.queueWaitNanos(Duration.ofMillis(500))).isEqualTo(Duration.ofMillis(500).toNanos());
        assertThat(config.queueWaitNanos(Duration.ofSeconds(60))).isEqualTo(Duration.ofMillis(1_950).toNanos());
        RuntimeConfig fast = RuntimeConfig.compile(FilterConfig.getDefaultInstance(), "1"); // 200 ms assumed
        assertThat(fast.queueWaitNanos(Duration.ofSeconds(5))).isEqualTo(Duration.ofMillis(160).toNanos());
    }

    @Test
    void inconsistentConfig_isRefusedWithWhatIsWrong() {
        Model badOverride = ROUTED.toBuilder().setOverrides(0, ROUTED.getOverrides(0).toBuilder().setVersion("v9")).build();
        assertThatThrownBy(() -> compile(badOverride)).isInstanceOf(InvalidConfigException.class)
                .hasMessage("model llama: override names unknown version 'v9'");

        Pool hostName = POOL.toBuilder().setEndpoints(0, "model-a:8000").build();
        assertThatThrownBy(() -> RuntimeConfig.compile(FilterConfig.newBuilder().addPools(hostName).build(), "1"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("pool llama-v1: host: \"model-a\"");

        Pool noQueue = POOL.toBuilder().setMaxQueue(0).build();
        assertThatThrownBy(() -> RuntimeConfig.compile(FilterConfig.newBuilder().addPools(noQueue).build(), "1"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("pool llama-v1: maxQueue: 0");
    }

    @Test
    void dedicatedVersions_takeTheirTenantsAlone_andNoOneElse() throws Exception {
        // v2's pool is reserved for acme: acme always goes there, even by the override to v1; others never do.
        Model dedicated = ROUTED.toBuilder()
                .setVersions(1, ROUTED.getVersions(1).toBuilder().setWeight(0).addDedicatedTenants("acme"))
                .addOverrides(VersionOverride.newBuilder().setHeader("x-aimesh-version").setValue("v1").setVersion("v1"))
                .build();
        ModelInfo model = compile(dedicated).model("llama");

        for (double draw : new double[] {0.0, 0.5, 0.9999}) {
            assertThat(model.choose(name -> null, draw, "acme")).isEqualTo(new RuntimeConfig.Choice(model.versions().get(1), RouteRule.DEDICATED, null));
            assertThat(model.choose(name -> null, draw, "globex").version().name()).isEqualTo("v1");
            assertThat(model.choose(name -> null, draw, null).version().name()).isEqualTo("v1");
        }
        assertThat(model.choose(Map.of("x-aimesh-version", "v2")::get, 0.0, "globex").version().name()).isEqualTo("v1");
        assertThat(model.choose(Map.of("x-aimesh-version", "v1")::get, 0.0, "acme").version().name()).isEqualTo("v2");
        assertThat(model.choose(Map.of("x-aimesh-version", "v1")::get, 0.0, "globex").label())
                .isEqualTo("override x-aimesh-version=v1");
    }

    @Test
    void aModelServedOnlyByOthersDedicatedPools_hasNoVersionForATenant() throws Exception {
        Model reserved = ROUTED.toBuilder()
                .setVersions(0, ROUTED.getVersions(0).toBuilder().addDedicatedTenants("acme"))
                .setVersions(1, ROUTED.getVersions(1).toBuilder().addDedicatedTenants("acme"))
                .build();
        ModelInfo model = compile(reserved).model("llama");

        assertThat(model.choose(name -> null, 0.5, "globex")).isEqualTo(new RuntimeConfig.Choice(null, RouteRule.NO_ELIGIBLE_POOL, null));
        assertThat(model.choose(name -> null, 0.95, "acme").version().name()).isEqualTo("v2");

        // All the weight on the dedicated version: the shared one (weight 0) is for overrides only.
        Model weightOnDedicated = ROUTED.toBuilder()
                .setVersions(0, ROUTED.getVersions(0).toBuilder().setWeight(0))
                .setVersions(1, ROUTED.getVersions(1).toBuilder().addDedicatedTenants("acme"))
                .build();
        ModelInfo other = compile(weightOnDedicated).model("llama");
        assertThat(other.choose(name -> null, 0.5, "globex").rule()).isEqualTo(RouteRule.NO_ELIGIBLE_POOL);
        assertThat(other.choose(Map.of("x-aimesh-version", "v2")::get, 0.5, "globex").version()).isNull();
    }

    @Test
    void tenants_areFoundByJwtClaim_andByHeaderOnlyBehindATrustedHop() throws Exception {
        io.aimesh.filter.api.Tenant acme = io.aimesh.filter.api.Tenant.newBuilder().setName("acme").setJwtClaim("acme-corp")
                .setTrustedHeader(io.aimesh.filter.api.HeaderMatch.newBuilder().setName("x-tenant-id").setValue("acme"))
                .setPriority(io.aimesh.filter.api.Priority.PRIORITY_SHEDDABLE)
                .putModelPriorities("llama", io.aimesh.filter.api.Priority.PRIORITY_CRITICAL)
                .setShare(3)
                .build();
        io.aimesh.filter.api.Settings.Builder settings = io.aimesh.filter.api.Settings.newBuilder().setJwtTenantClaim("org.tenant");

        RuntimeConfig untrusted = RuntimeConfig.compile(FilterConfig.newBuilder().addTenants(acme).setSettings(settings).build(), "1");
        assertThat(untrusted.tenantByJwtClaim("acme-corp").name()).isEqualTo("acme");
        assertThat(untrusted.jwtClaimPath()).containsExactly("org", "tenant");
        assertThat(untrusted.tenantHeaders()).isEmpty();
        RuntimeConfig.TenantInfo info = untrusted.tenantByJwtClaim("acme-corp");
        assertThat(info.priority("llama")).isEqualTo(RuntimeConfig.Priority.CRITICAL);
        assertThat(info.priority("other")).isEqualTo(RuntimeConfig.Priority.SHEDDABLE);
        assertThat(info.share()).isEqualTo(3);

        RuntimeConfig trusted = RuntimeConfig.compile(FilterConfig.newBuilder().addTenants(acme)
                .setSettings(settings.setTrustedHop(true)).build(), "1");
        assertThat(trusted.tenantHeaders().get("x-tenant-id").get("acme").name()).isEqualTo("acme");
    }

    private static RuntimeConfig compile(Model model) throws InvalidConfigException {
        return RuntimeConfig.compile(FilterConfig.newBuilder().addModels(model).build(), "1");
    }
}

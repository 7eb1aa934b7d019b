package io.aimesh.filter.extproc;

import static io.aimesh.filter.extproc.ProcessorHarness.chat;
import static io.aimesh.filter.extproc.ProcessorHarness.chatHeaders;
import static io.aimesh.filter.extproc.ProcessorHarness.decision;
import static io.aimesh.filter.extproc.ProcessorHarness.setHeader;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Settings;
import io.aimesh.filter.api.Version;
import io.aimesh.filter.api.VersionOverride;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The version: chosen by override header, else by weight; a model without versions is Envoy's to split. */
class RouteStageTest {
    private static final Model ROUTED = Model.newBuilder().setName("routed").setTokenizer("approximate")
            .addVersions(Version.newBuilder().setName("v1").setPool("routed-v1").setWeight(100))
            .addVersions(Version.newBuilder().setName("v2").setPool("routed-v2").setWeight(0))
            .addOverrides(VersionOverride.newBuilder().setHeader("x-aimesh-version").setValue("v2").setVersion("v2"))
            .build();
    private static final Model STICKY = ROUTED.toBuilder().setName("sticky")
            .setVersions(0, ROUTED.getVersions(0).toBuilder().setWeight(50))
            .setVersions(1, ROUTED.getVersions(1).toBuilder().setWeight(50))
            .setStickiness(io.aimesh.filter.api.Stickiness.newBuilder()
                    .setBy(io.aimesh.filter.api.Stickiness.By.BY_HEADER).setName("x-user"))
            .build();
    private static final Model GLOBEX_ONLY = Model.newBuilder().setName("private").setTokenizer("approximate")
            .addVersions(Version.newBuilder().setName("v1").setPool("globex-pool").setWeight(1).addDedicatedTenants("globex"))
            .build();
    private final ProcessorHarness filter = ProcessorHarness.of(FilterConfig.newBuilder()
            .addModels(ProcessorHarness.LLAMA).addModels(ROUTED).addModels(GLOBEX_ONLY).addModels(STICKY)
            .addTenants(ProcessorHarness.acme(1_000))
            .setSettings(Settings.newBuilder().addClientHeaders("x-aimesh-version").addClientHeaders("x-user")).build());

    @AfterEach
    void close() {
        filter.close();
    }

    @Test
    void aModelWithoutVersions_isLeftToEnvoysSplit_withoutAPoolHeader() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), chat(""));

        assertThat(decision(answer)).isEqualTo("admitted rule=envoy-split tenant=acme priority=standard");
        assertThat(setHeader(answer, "x-aimesh-pool")).isEmpty();
    }

    @Test
    void theWeight_choosesTheVersion() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), body("routed"));

        assertThat(setHeader(answer, "x-aimesh-pool")).hasValue("routed-v1");
        assertThat(decision(answer)).startsWith("admitted rule=weight pool=routed-v1");
    }

    @Test
    void aStickyModel_keepsAUserOnOneVersion_byTheirHeader() {
        java.util.Set<String> pools = new java.util.HashSet<>();
        java.util.Set<String> alicePools = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) { // 40 requests of 6 tokens held: within acme's 1,000 with the other tests' probes
            ProcessingResponse alice = filter.open().request(chatHeaders("x-user", "alice"), body("sticky"));
            assertThat(decision(alice)).startsWith("admitted rule=sticky pool=");
            alicePools.add(setHeader(alice, "x-aimesh-pool").orElseThrow());
            pools.add(setHeader(filter.open().request(chatHeaders("x-user", "user-" + i), body("sticky")), "x-aimesh-pool")
                    .orElseThrow());
        }

        assertThat(alicePools).hasSize(1);
        assertThat(pools).as("20 users at 50/50 land on both").containsExactlyInAnyOrder("routed-v1", "routed-v2");
    }

    @Test
    void anOverrideHeader_winsOverTheWeight_andIsNamedInTheDecision() {
        ProcessingResponse answer = filter.open().request(chatHeaders("x-aimesh-version", "v2"), body("routed"));

        assertThat(setHeader(answer, "x-aimesh-pool")).hasValue("routed-v2");
        assertThat(decision(answer)).startsWith("admitted rule=override x-aimesh-version=v2 pool=routed-v2");
    }

    @Test
    void aModelServedOnlyByAnotherTenantsPools_is403_andItsReservationIsReturned() {
        long before = filter.remainingAfterOneMore();

        ProcessingResponse answer = filter.open().request(chatHeaders(), body("private"));

        assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(403);
        assertThat(decision(answer)).isEqualTo("denied reason=dedicated-pools tenant=acme model=private");
        assertThat(filter.remainingAfterOneMore()).isEqualTo(before - 12); // the 12 of the first probe alone
    }

    private static String body(String model) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }
}

package io.aimesh.xds;

import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsResource;
import io.aimesh.xds.snapshot.XdsSnapshot;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Snapshots Envoy must reject, to test NACK handling. */
final class BadConfig {
    private BadConfig() {
    }

    /** {@code snapshot} with the first endpoint of every assignment replaced by a host name, which EDS forbids. */
    static XdsSnapshot withUnparsableEndpoint(XdsSnapshot snapshot) {
        Map<ResourceType, List<XdsResource>> resources = new EnumMap<>(ResourceType.class);
        for (ResourceType type : ResourceType.values()) {
            List<XdsResource> list = new ArrayList<>();
            for (XdsResource resource : snapshot.resources(type).values()) {
                if (type == ResourceType.ENDPOINT) {
                    ClusterLoadAssignment.Builder cla = ((ClusterLoadAssignment) resource.message()).toBuilder();
                    cla.getEndpointsBuilder(0).getLbEndpointsBuilder(0).getEndpointBuilder().getAddressBuilder()
                            .getSocketAddressBuilder().setAddress("not-an-ip");
                    list.add(XdsResource.of(resource.name(), cla.build()));
                } else {
                    list.add(resource);
                }
            }
            resources.put(type, list);
        }
        return XdsSnapshot.of(resources);
    }
}
